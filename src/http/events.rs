//! Live events for pages (auction bids), fed by Postgres LISTEN/NOTIFY so that every server
//! process sees every event, and fanned out in-process through a broadcast channel.
use tokio::sync::broadcast;

#[derive(Clone, Debug)]
pub struct Event {
    pub channel: String,
    pub payload: String,
}

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { tx }
    }
}

impl Events {
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    pub fn publish(&self, e: Event) {
        let _ = self.tx.send(e);
    }

    /// Listens on `channels` and republishes every notification; reconnects on failure, and stops
    /// quietly once the pool is closed (the server is shutting down).
    pub fn spawn_listener(&self, pool: sqlx::PgPool, channels: &'static [&'static str]) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut l) => {
                        if let Err(e) = l.listen_all(channels.iter().copied()).await {
                            tracing::warn!(error = %e, "listen failed");
                        } else {
                            loop {
                                match l.recv().await {
                                    Ok(n) => me.publish(Event {
                                        channel: n.channel().to_string(),
                                        payload: n.payload().to_string(),
                                    }),
                                    Err(_) if pool.is_closed() => return,
                                    Err(e) => {
                                        tracing::warn!(error = %e, "listener lost its connection");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(_) if pool.is_closed() => return,
                    Err(e) => tracing::warn!(error = %e, "listener could not connect"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }
}
