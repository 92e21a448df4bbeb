//! The mock's transport: the accept loop, HTTP/1.1 connections
//! ([`http1`]) and HTTPS ([`tls`]), feeding the axum [`Router`] of
//! `super::http` as a tower service.
//!
//! # Why not hyper's server
//!
//! The mock must hold 10,000 idle Ping long-polls in under 200 MB. hyper
//! 1.x's HTTP/1 server connection (what `axum::serve` runs) allocates an
//! 8 KiB write buffer when the connection opens and a read buffer of 8 KiB
//! that grows to 16 KiB, and keeps both for the connection's whole life,
//! also while the handler awaits a Ping: about 24 KiB a connection, 234 MiB
//! of the 317 MiB the mock took for 10,000 held Pings. None of its options
//! gives them back: `max_buf_size` only caps the read buffer's growth, the
//! write buffer's strategy (`writev`) changes how it is filled, not whether
//! it is held. So this module drives HTTP/1.1 itself, with no buffer held
//! while a connection is idle or a handler awaits (see [`http1`]).
//!
//! # Shutdown
//!
//! [`serve`] stops accepting when told to, then tells every connection:
//! an idle one closes at once, one with a request in flight finishes it
//! (its response says `Connection: close`) and closes. [`serve`] returns
//! when the last connection is gone, as `axum::serve`'s graceful shutdown
//! did.

pub(super) mod http1;
pub(super) mod tls;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio_rustls::TlsAcceptor;

pub use tls::{Certificate, TlsError, TlsSetup};

/// How long the transport waits for a client (the `transport::http1`
/// module says where each applies). Tests lower them to see them fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From a request's first byte to the end of its head (request line
    /// and header fields), and for a TLS handshake: a client that trickles
    /// its head (slowloris) gets HTTP 408 and is closed. Default 30 s.
    pub head: Duration,
    /// How long a keep-alive connection may sit idle between requests
    /// before the server closes it. Default 120 s: well above what clients
    /// keep idle connections for (reqwest 90 s); a Ping in flight is not
    /// idle (it is bounded by its `HeartbeatInterval`, up to 3540 s).
    pub idle: Duration,
    /// The longest a request body read or a response write may stall
    /// without any progress before the connection is dropped. Default 30 s.
    pub io: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            head: Duration::from_secs(30),
            idle: Duration::from_secs(120),
            io: Duration::from_secs(30),
        }
    }
}

/// What every connection of one server shares.
pub(super) struct Limits {
    pub timeouts: Timeouts,
    /// Request bodies above this (on the wire) get HTTP 413.
    pub max_body: usize,
}

/// Accepts connections on `listener` until `stop` fires (or its sender is
/// dropped), then shuts down gracefully (see the module docs).
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    let limits = Arc::new(limits);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            biased;
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // A connection reset before it was accepted concerns that
                // connection only; anything else (out of file descriptors)
                // may pass: wait a little rather than spin.
                if !is_connection_error(&e) {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        // Responses go out in one write; no reason to wait for an ACK.
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let limits = Arc::clone(&limits);
        let shutdown = shutdown_rx.clone();
        // Two spawns, not one task with a `match`: a task's size is that
        // of its largest state, and a plain connection must not pay for
        // the TLS state it does not have.
        match &tls {
            None => {
                tokio::spawn(http1::serve_connection(stream, app, limits, shutdown));
            }
            Some(acceptor) => {
                tokio::spawn(serve_tls(acceptor.clone(), stream, app, limits, shutdown));
            }
        }
    }
    drop(listener);
    let _ = shutdown_tx.send(true);
    drop(shutdown_rx);
    // Every connection holds a receiver until it ends.
    shutdown_tx.closed().await;
    Ok(())
}

/// The TLS handshake (bounded by the head timeout), then HTTP/1.1 over it.
async fn serve_tls(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    app: Router,
    limits: Arc<Limits>,
    shutdown: watch::Receiver<bool>,
) {
    let handshake = tokio::time::timeout(limits.timeouts.head, acceptor.accept(stream)).await;
    match handshake {
        Ok(Ok(stream)) => http1::serve_connection(stream, app, limits, shutdown).await,
        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!("TLS handshake timed out"),
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
