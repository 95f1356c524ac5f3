//! Live events for pages (auction bids), fed by Postgres LISTEN/NOTIFY so that every server
//! process sees every event, and fanned out in-process through a broadcast channel.
use tokio::sync::broadcast;

/// The in-process event that tells every live page to fetch its whole state again (events may
/// have been missed while the database connection was down).
pub const RESYNC: &str = "_resync";

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
    ///
    /// Notifications sent while the connection was down are gone (LISTEN/NOTIFY keeps nothing), so
    /// after every reconnection a [`RESYNC`] event tells the open pages to fetch the state again.
    pub fn spawn_listener(&self, pool: sqlx::PgPool, channels: &'static [&'static str]) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut connected_before = false;
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut l) => {
                        if let Err(e) = l.listen_all(channels.iter().copied()).await {
                            tracing::warn!(error = %e, "listen failed");
                        } else {
                            if connected_before {
                                me.publish(Event {
                                    channel: RESYNC.into(),
                                    payload: String::new(),
                                });
                            }
                            connected_before = true;
                            loop {
                                // `try_recv` says when the connection was lost (`recv` would
                                // reconnect silently, and the events in between would be lost
                                // without anyone knowing).
                                match l.try_recv().await {
                                    Ok(Some(n)) => me.publish(Event {
                                        channel: n.channel().to_string(),
                                        payload: n.payload().to_string(),
                                    }),
                                    Ok(None) if pool.is_closed() => return,
                                    Ok(None) => {
                                        tracing::warn!("listener lost its connection");
                                        break;
                                    }
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
