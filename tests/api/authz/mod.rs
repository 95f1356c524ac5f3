//! Authorization: the matrix of every mutating API route against every kind of caller, and the
//! HTML forms' CSRF check.
mod escaping;
mod forms;
mod matrix;
pub(crate) mod world;
