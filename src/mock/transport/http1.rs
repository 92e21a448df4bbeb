//! A lean HTTP/1.1 server connection (RFC 9112) that holds no buffer while
//! it is idle or while its handler awaits (a Ping long-poll).
//!
//! # One exchange
//!
//! 1. Idle: the connection waits for a request's first byte with nothing
//!    allocated but the socket (a one-byte read), up to
//!    [`Timeouts::idle`](super::Timeouts::idle); at shutdown it closes.
//! 2. The head is read into a buffer that starts at [`FIRST_READ`] bytes
//!    and doubles as needed up to [`MAX_HEAD`] (beyond: HTTP 431), within
//!    [`Timeouts::head`](super::Timeouts::head) of the first byte (beyond:
//!    408), and parsed with `httparse` (at most [`MAX_HEADERS`] fields:
//!    431; anything malformed: 400).
//! 3. The body's framing (RFC 9112 section 6): `Transfer-Encoding: chunked`
//!    (decoded here; extensions and trailers are read and dropped), or
//!    `Content-Length`, or none. Both at once: 400. A transfer coding other
//!    than `chunked`: 501. `Transfer-Encoding` in HTTP/1.0: 400. A
//!    `Content-Length` above `max_body_bytes`: 413 without reading the
//!    body; a chunked body that grows past it: 413 when it does.
//!    `Expect: 100-continue` gets `100 Continue` before the body is read;
//!    any other expectation 417.
//! 4. The router is called with the body. A body already in the buffer
//!    (the usual case: small EAS requests arrive with their head) is handed
//!    over whole; a longer one streams through a one-slot channel while the
//!    handler reads it, so that the router's own limit (counted after gzip
//!    inflation) can stop an endless body early.
//! 5. The read buffer is freed (bytes of a pipelined next request are kept),
//!    the response body collected, and status line, header fields and body
//!    written in one write (two for bodies above [`SINGLE_WRITE`]). Then
//!    everything is dropped.
//!
//! # Choices
//!
//! - Keep-alive: HTTP/1.1 keeps the connection unless `Connection: close`;
//!   HTTP/1.0 closes unless `Connection: keep-alive`. Every error the
//!   transport answers itself (400, 408, 413, 417, 431, 501) closes the
//!   connection, after reading and discarding what the client still sends
//!   for up to [`LINGER`] (so that its socket does not reset and lose the
//!   answer).
//! - A client that closes its connection while its request is in flight
//!   (a device giving up on a Ping) is noticed: while the handler runs, the
//!   connection watches for end of stream and drops the handler's future,
//!   and with it the held Ping, at once. This is hyper's default too (no
//!   HTTP/1 half-close): a client that shuts down only its sending side
//!   after the request has its request dropped. A byte of a pipelined next
//!   request ends the watch (the client is there) and is kept.
//! - Responses are always `Content-Length` framed (never chunked), say
//!   `HTTP/1.1` (also to HTTP/1.0 clients, RFC 9110 section 6.2), carry a
//!   `Date`, and spell header names as Exchange does (`Content-Type`,
//!   `MS-ASProtocolVersions`): some device clients compare them
//!   case-sensitively. The status 449 that EAS uses reads `Retry With`.
//! - `Host` is not required (hyper did not require it either).
//! - HEAD: answered like the method the router gives it (405 here) without
//!   the body.

use std::fmt::Write as _;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, Version};
use http_body_util::channel::Channel;
use http_body_util::{BodyExt as _, Limited};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};
use tower::ServiceExt as _;

use super::Limits;

/// The read buffer's first size: most EAS request heads (and their small
/// WBXML bodies) fit.
pub const FIRST_READ: usize = 1024;
/// The largest request head accepted (HTTP 431 beyond).
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header fields in a request head (HTTP 431 beyond); hyper's
/// default too.
pub const MAX_HEADERS: usize = 100;
/// Bodies are read from the socket in pieces of at most this size.
const BODY_READ: usize = 16 * 1024;
/// Response bodies up to this size are copied behind the head and written
/// in one go; larger ones are written after it.
pub const SINGLE_WRITE: usize = 64 * 1024;
/// The largest response body the transport collects (the mock's own; a
/// bigger one is a bug, answered with a closed connection).
const MAX_RESPONSE: usize = 1 << 30;
/// After an error answer with request bytes unread: how long the
/// connection reads and discards what the client still sends before it
/// closes.
pub const LINGER: Duration = Duration::from_secs(2);

/// What happens to the connection after an exchange.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    KeepAlive,
    Close,
}

/// Serves HTTP/1.1 requests on `io` until the client closes, an error, the
/// idle timeout, or shutdown.
pub(super) async fn serve_connection<IO>(
    mut io: IO,
    app: Router,
    limits: Arc<Limits>,
    mut shutdown: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send,
{
    // Bytes read but not yet used: the start of the next request. Empty
    // (no allocation) between requests, except after pipelining.
    let mut pending: Vec<u8> = Vec::new();
    loop {
        if pending.is_empty() {
            if *shutdown.borrow() {
                break;
            }
            let first = tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                first = timeout(limits.timeouts.idle, read_byte(&mut io)) => first,
            };
            match first {
                Ok(Ok(Some(byte))) => {
                    pending = Vec::with_capacity(FIRST_READ);
                    pending.push(byte);
                }
                // End of stream, an error, or idle too long.
                _ => break,
            }
        }
        // Boxed: the exchange's state (the head, the router's future) is
        // allocated while a request is in flight, not for the connection's
        // whole life.
        let next = Box::pin(exchange(&mut io, &app, &limits, &mut pending, &shutdown)).await;
        if next == Next::Close {
            break;
        }
    }
    let _ = timeout(limits.timeouts.io, io.shutdown()).await;
}

/// One byte, or `None` at end of stream; the only read of an idle
/// connection, so that it holds no buffer.
async fn read_byte<IO: AsyncRead + Unpin>(io: &mut IO) -> io::Result<Option<u8>> {
    let mut byte = [0u8; 1];
    let n = io.read(&mut byte).await?;
    Ok((n == 1).then_some(byte[0]))
}

/// An error the transport answers itself, always closing the connection.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    why: &'static str,
}

fn refuse(status: StatusCode, why: &'static str) -> Refusal {
    Refusal { status, why }
}

/// How the request body is framed (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
}

/// A parsed request head.
struct Head {
    request: Request<()>,
    /// Bytes of the buffer the head took.
    len: usize,
    framing: Framing,
    keep_alive: bool,
    expect_continue: bool,
}

/// What reading a request gave.
enum Prepared {
    /// A request whose body is all there.
    Whole(Request<Body>, Meta),
    /// A request whose body is still coming: the decoder, and the data
    /// already decoded.
    Streaming(Request<()>, Meta, Decoder, Vec<u8>),
    /// Answered by the transport (an error), or the client left.
    Done(Next),
}

/// What the response needs to know of its request.
#[derive(Debug, Clone, Copy)]
struct Meta {
    keep_alive: bool,
    is_head: bool,
    expect_continue: bool,
}

/// One request and its response, in three phases, each boxed: the head and
/// body ([`read_request`]), the router ([`call_watching_eof`] or
/// [`stream_and_call`]), the response ([`write_response`]). Only the
/// router's phase lasts while a Ping is held, so only its state (the
/// router's future and a few references) is kept for it.
async fn exchange<IO>(
    io: &mut IO,
    app: &Router,
    limits: &Limits,
    buf: &mut Vec<u8>,
    shutdown: &watch::Receiver<bool>,
) -> Next
where
    IO: AsyncRead + AsyncWrite + Unpin + Send,
{
    let (response, meta, body_complete) = match Box::pin(read_request(io, limits, buf)).await {
        Prepared::Done(next) => return next,
        Prepared::Whole(request, meta) => {
            // Boxed alone: while a Ping is held, this box (the router's
            // future) and this exchange's own small state are all there is.
            let handler = Box::pin(app.clone().oneshot(request));
            match call_watching_eof(io, handler, buf).await {
                Some(response) => (response, meta, true),
                // The client is gone: its request with it.
                None => return Next::Close,
            }
        }
        Prepared::Streaming(request, meta, decoder, first) => {
            let call = stream_and_call(io, app, request, meta, decoder, first, buf, limits);
            match Box::pin(call).await {
                Ok((response, complete)) => (response, meta, complete),
                Err(next) => return next,
            }
        }
    };
    let keep_alive = meta.keep_alive && body_complete && !*shutdown.borrow();
    let written = Box::pin(write_response(
        io,
        response,
        meta.is_head,
        keep_alive,
        limits,
    ))
    .await;
    if !written {
        return Next::Close;
    }
    if keep_alive {
        Next::KeepAlive
    } else {
        if !body_complete {
            Box::pin(linger(io)).await;
        }
        Next::Close
    }
}

/// Reads the head, and the body if it is all in the buffer.
async fn read_request<IO>(io: &mut IO, limits: &Limits, buf: &mut Vec<u8>) -> Prepared
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let head_deadline = Instant::now() + limits.timeouts.head;
    let head = loop {
        match parse_head(buf, limits.max_body) {
            Ok(Some(head)) => break head,
            Ok(None) if buf.len() >= MAX_HEAD => {
                let r = refuse(
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "the request head is too large",
                );
                return Prepared::Done(refuse_and_close(io, r, limits).await);
            }
            Ok(None) => {}
            Err(r) => return Prepared::Done(refuse_and_close(io, r, limits).await),
        }
        // Grow by doubling, never past the head limit (plus one byte, to
        // tell "exactly at the limit" from "beyond").
        if buf.len() == buf.capacity() {
            let target = (buf.capacity() * 2).clamp(FIRST_READ, MAX_HEAD + 1);
            buf.reserve_exact(target - buf.len());
        }
        match timeout_at(head_deadline, io.read_buf(buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Prepared::Done(Next::Close),
            Ok(Ok(_)) => {}
            Err(_) => {
                let r = refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    "the request head took too long",
                );
                return Prepared::Done(refuse_and_close(io, r, limits).await);
            }
        }
    };
    buf.drain(..head.len);
    let meta = Meta {
        keep_alive: head.keep_alive,
        is_head: head.request.method() == Method::HEAD,
        expect_continue: head.expect_continue,
    };
    let mut decoder = Decoder::new(head.framing, limits.max_body);
    let mut body = Vec::new();
    match decoder.decode(buf, &mut body) {
        Ok(used) => {
            buf.drain(..used);
        }
        Err(r) => return Prepared::Done(refuse_and_close(io, r, limits).await),
    }
    if decoder.is_done() {
        release(buf);
        Prepared::Whole(head.request.map(|()| Body::from(body)), meta)
    } else {
        Prepared::Streaming(head.request, meta, decoder, body)
    }
}

/// Streams the rest of the body to the router through a channel while the
/// handler runs: the response, and whether the body was read to its end;
/// `Err` when the transport answered or the client left.
#[allow(clippy::too_many_arguments)]
async fn stream_and_call<IO>(
    io: &mut IO,
    app: &Router,
    request: Request<()>,
    meta: Meta,
    mut decoder: Decoder,
    first: Vec<u8>,
    buf: &mut Vec<u8>,
    limits: &Limits,
) -> Result<(RouterResult, bool), Next>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    // Only while nothing of the body came yet (the client may not wait).
    if meta.expect_continue && buf.is_empty() && first.is_empty() {
        let sent = timeout(
            limits.timeouts.io,
            io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n"),
        )
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            return Err(Next::Close);
        }
    }
    let (mut tx, channel) = Channel::new(1);
    let request = request.map(|()| Body::new(StreamedBody(Some(channel))));
    let first = (!first.is_empty()).then(|| Bytes::from(first));
    let handler = app.clone().oneshot(request);
    tokio::pin!(handler);
    let pumped = {
        let pump = pump(io, buf, &mut decoder, &mut tx, first, limits.timeouts.io);
        tokio::pin!(pump);
        tokio::select! {
            response = &mut handler => Err(response),
            pumped = &mut pump => Ok(pumped),
        }
    };
    match pumped {
        // The handler answered before the body ended (a limit, a
        // rejection): the rest of the body is unread, so the connection
        // cannot carry another request.
        Err(response) => Ok((response, false)),
        Ok(Ok(())) => {
            drop(tx);
            release(buf);
            match call_watching_eof(io, &mut handler, buf).await {
                Some(response) => Ok((response, true)),
                None => Err(Next::Close),
            }
        }
        Ok(Err(PumpError::Refused(r))) => Err(refuse_and_close(io, r, limits).await),
        // The handler dropped the body unread and is still working: wait
        // for its answer, then close.
        Ok(Err(PumpError::Abandoned)) => {
            drop(tx);
            Ok(((&mut handler).await, false))
        }
        Ok(Err(PumpError::Io)) => {
            tx.abort(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client stopped sending the body",
            ));
            Err(Next::Close)
        }
    }
}

/// Collects the response body and writes the response; false when the
/// connection failed.
async fn write_response<IO>(
    io: &mut IO,
    response: RouterResult,
    is_head: bool,
    keep_alive: bool,
    limits: &Limits,
) -> bool
where
    IO: AsyncWrite + Unpin,
{
    let Ok(response) = response;
    let (parts, body) = response.into_parts();
    let body = match Limited::new(body, MAX_RESPONSE).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "the response body could not be read");
            return false;
        }
    };
    let mut head = String::with_capacity(256);
    write_head(
        &mut head,
        parts.status,
        &parts.headers,
        body.len(),
        keep_alive,
    );
    let status = parts.status;
    drop(parts);
    let write = async {
        if is_head || !allows_body(status) || body.is_empty() {
            io.write_all(head.as_bytes()).await?;
        } else if body.len() <= SINGLE_WRITE {
            let mut out = head.into_bytes();
            out.extend_from_slice(&body);
            io.write_all(&out).await?;
        } else {
            io.write_all(head.as_bytes()).await?;
            io.write_all(&body).await?;
        }
        io.flush().await
    };
    matches!(timeout(limits.timeouts.io, write).await, Ok(Ok(())))
}

/// Frees the read buffer unless it holds the start of a pipelined request.
fn release(buf: &mut Vec<u8>) {
    if buf.is_empty() {
        *buf = Vec::new();
    }
}

type RouterResult = Result<axum::response::Response, std::convert::Infallible>;

/// Awaits the router's future, watching the connection for end of stream
/// meanwhile (`None`: the client left and the handler's future was
/// dropped).
async fn call_watching_eof<IO, F>(
    io: &mut IO,
    handler: F,
    pending: &mut Vec<u8>,
) -> Option<RouterResult>
where
    IO: AsyncRead + Unpin,
    F: Future<Output = RouterResult> + Unpin,
{
    let mut handler = handler;
    // Bytes already waiting: the client is there, nothing to watch.
    let mut watching = pending.is_empty();
    poll_fn(|cx| {
        if let Poll::Ready(response) = Pin::new(&mut handler).poll(cx) {
            return Poll::Ready(Some(response));
        }
        if watching {
            let mut byte = [0u8; 1];
            let mut read = ReadBuf::new(&mut byte);
            match Pin::new(&mut *io).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => return Poll::Ready(None),
                Poll::Ready(Ok(())) => {
                    // A pipelined request: keep its first byte, stop watching.
                    pending.push(byte[0]);
                    watching = false;
                }
                Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
    .await
}

/// A request body that streams in: the channel's, fused. http-body-util's
/// channel panics when polled again after its end, which the gzip decoder
/// of `RequestDecompressionLayer` does.
struct StreamedBody(Option<Channel<Bytes, io::Error>>);

impl http_body::Body for StreamedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        let Some(channel) = self.0.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(channel).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.0 = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }
}

/// Why streaming the body to the handler stopped.
enum PumpError {
    /// Malformed or too large: answered by the transport.
    Refused(Refusal),
    /// The handler dropped the body before its end.
    Abandoned,
    /// The client stopped sending (end of stream, an error, a stall).
    Io,
}

/// Reads and decodes the rest of the body into the channel.
async fn pump<IO>(
    io: &mut IO,
    buf: &mut Vec<u8>,
    decoder: &mut Decoder,
    tx: &mut http_body_util::channel::Sender<Bytes, io::Error>,
    first: Option<Bytes>,
    stall: Duration,
) -> Result<(), PumpError>
where
    IO: AsyncRead + Unpin,
{
    if let Some(first) = first {
        tx.send_data(first)
            .await
            .map_err(|_| PumpError::Abandoned)?;
    }
    loop {
        buf.clear();
        buf.reserve(BODY_READ);
        match timeout(stall, io.read_buf(buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return Err(PumpError::Io),
            Ok(Ok(_)) => {}
        }
        let mut data = Vec::new();
        let used = decoder.decode(buf, &mut data).map_err(PumpError::Refused)?;
        buf.drain(..used);
        if !data.is_empty() {
            tx.send_data(Bytes::from(data))
                .await
                .map_err(|_| PumpError::Abandoned)?;
        }
        if decoder.is_done() {
            // What is left is the start of the next request.
            return Ok(());
        }
    }
}

/// Answers an error itself and closes, lingering so that the client reads
/// the answer.
async fn refuse_and_close<IO>(io: &mut IO, refusal: Refusal, limits: &Limits) -> Next
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    tracing::warn!(
        http_status = refusal.status.as_u16(),
        reason = refusal.why,
        "request refused by the transport"
    );
    let body = format!("{}\n", refusal.why);
    let mut headers = HeaderMap::new();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let mut out = String::with_capacity(256);
    write_head(&mut out, refusal.status, &headers, body.len(), false);
    out.push_str(&body);
    let sent = timeout(limits.timeouts.io, async {
        io.write_all(out.as_bytes()).await?;
        io.flush().await
    })
    .await;
    if matches!(sent, Ok(Ok(()))) {
        linger(io).await;
    }
    Next::Close
}

/// Closes the sending side and reads what the client still sends for up to
/// [`LINGER`], so that unread request bytes do not make the kernel reset
/// the connection (and the client lose the answer) at close.
async fn linger<IO>(io: &mut IO)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let _ = timeout(LINGER, io.shutdown()).await;
    let _ = timeout(LINGER, async {
        let mut sink = vec![0u8; 4096];
        while let Ok(n) = io.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// The request head at the start of `buf`: `None` while incomplete.
fn parse_head(buf: &[u8], max_body: usize) -> Result<Option<Head>, Refusal> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(refuse(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "too many header fields",
            ));
        }
        Err(_) => return Err(refuse(StatusCode::BAD_REQUEST, "malformed request head")),
    };
    let bad = |why| refuse(StatusCode::BAD_REQUEST, why);
    let method = parsed
        .method
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or_else(|| bad("bad method"))?;
    let uri: Uri = parsed
        .path
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| bad("bad request target"))?;
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    let mut content_length: Option<u64> = None;
    let mut codings: Vec<&str> = Vec::new();
    let mut transfer_encoding = false;
    let mut close = false;
    let mut keep_alive_asked = false;
    let mut expect_continue = false;
    for field in parsed.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|_| bad("bad header field name"))?;
        let value =
            HeaderValue::from_bytes(field.value).map_err(|_| bad("bad header field value"))?;
        if name == axum::http::header::CONTENT_LENGTH {
            // Several fields, or a list, must all say the same (RFC 9112
            // section 6.3, item 5).
            let text = std::str::from_utf8(field.value).map_err(|_| bad("bad Content-Length"))?;
            for item in text.split(',') {
                let item = item.trim();
                if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("bad Content-Length"));
                }
                let n: u64 = item.parse().map_err(|_| bad("bad Content-Length"))?;
                if content_length.is_some_and(|c| c != n) {
                    return Err(bad("conflicting Content-Length values"));
                }
                content_length = Some(n);
            }
        } else if name == axum::http::header::TRANSFER_ENCODING {
            transfer_encoding = true;
            let text =
                std::str::from_utf8(field.value).map_err(|_| bad("bad Transfer-Encoding"))?;
            codings.extend(text.split(',').map(str::trim).filter(|c| !c.is_empty()));
        } else if name == axum::http::header::CONNECTION {
            let text = value.to_str().unwrap_or("");
            for option in text.split(',').map(str::trim) {
                close |= option.eq_ignore_ascii_case("close");
                keep_alive_asked |= option.eq_ignore_ascii_case("keep-alive");
            }
        } else if name == axum::http::header::EXPECT {
            let text = value.to_str().unwrap_or("");
            if text.trim().eq_ignore_ascii_case("100-continue") {
                // HTTP/1.0 clients cannot ask for it (RFC 9110 section 10.1.1).
                expect_continue = version == Version::HTTP_11;
            } else {
                return Err(refuse(
                    StatusCode::EXPECTATION_FAILED,
                    "only the 100-continue expectation is supported",
                ));
            }
        }
        headers.append(name, value);
    }
    let framing = if transfer_encoding {
        if version == Version::HTTP_10 {
            return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
        }
        if content_length.is_some() {
            return Err(bad("both Content-Length and Transfer-Encoding"));
        }
        if codings.iter().any(|c| !c.eq_ignore_ascii_case("chunked")) {
            return Err(refuse(
                StatusCode::NOT_IMPLEMENTED,
                "only the chunked transfer coding is supported",
            ));
        }
        if codings.len() != 1 {
            return Err(bad("chunked must be applied exactly once"));
        }
        Framing::Chunked
    } else {
        Framing::Length(content_length.unwrap_or(0))
    };
    if let Framing::Length(n) = framing
        && n > max_body as u64
    {
        return Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is above the server's limit",
        ));
    }
    let keep_alive = !close && (version == Version::HTTP_11 || keep_alive_asked);
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Ok(Some(Head {
        request,
        len,
        framing,
        keep_alive,
        expect_continue,
    }))
}

/// Where the chunked decoder is (RFC 9112 section 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Hex digits of a chunk size.
    Size,
    /// After the size: whitespace and extensions up to the line's end.
    Extension,
    /// The size line's CR was read; LF next.
    SizeLf,
    /// Chunk data, this many bytes left.
    Data(u64),
    /// After the data: CR, then LF.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    /// Inside a trailer field line.
    Trailer,
    /// A trailer line's CR was read; LF next.
    TrailerLf,
    /// The final empty line's CR was read; LF next.
    EndLf,
}

/// Takes a body's bytes off the read buffer as they come.
struct Decoder {
    framing: Framing,
    /// Length framing: bytes still to come.
    remaining: u64,
    chunk: Chunk,
    size: u64,
    digits: u32,
    /// Bytes of the current size or trailer line, and of all trailers.
    line: usize,
    trailers: usize,
    /// Data bytes so far (chunked), against `max`.
    total: u64,
    max: u64,
    done: bool,
}

/// The longest chunk-size line (with extensions) or trailer line.
const MAX_LINE: usize = 4096;

impl Decoder {
    fn new(framing: Framing, max: usize) -> Decoder {
        let remaining = match framing {
            Framing::Length(n) => n,
            Framing::Chunked => 0,
        };
        Decoder {
            framing,
            remaining,
            chunk: Chunk::Size,
            size: 0,
            digits: 0,
            line: 0,
            trailers: 0,
            total: 0,
            max: max as u64,
            done: framing == Framing::Length(0),
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    /// Decodes what it can of `input` into `out`; the bytes used. Stops at
    /// the body's end (what follows is the next request).
    fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, Refusal> {
        if self.done {
            return Ok(0);
        }
        if let Framing::Length(_) = self.framing {
            let n = input
                .len()
                .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
            out.extend_from_slice(&input[..n]);
            self.remaining -= n as u64;
            self.done = self.remaining == 0;
            return Ok(n);
        }
        let bad = |why| refuse(StatusCode::BAD_REQUEST, why);
        let mut at = 0;
        while at < input.len() && !self.done {
            let byte = input[at];
            match self.chunk {
                Chunk::Data(left) => {
                    let n = (input.len() - at).min(usize::try_from(left).unwrap_or(usize::MAX));
                    self.total += n as u64;
                    if self.total > self.max {
                        return Err(refuse(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "the request body is above the server's limit",
                        ));
                    }
                    out.extend_from_slice(&input[at..at + n]);
                    at += n;
                    self.chunk = if left == n as u64 {
                        Chunk::DataCr
                    } else {
                        Chunk::Data(left - n as u64)
                    };
                    continue;
                }
                Chunk::Size | Chunk::Extension | Chunk::Trailer => {
                    self.line += 1;
                    if self.line > MAX_LINE {
                        return Err(bad("chunk line too long"));
                    }
                }
                _ => {}
            }
            at += 1;
            self.chunk = match (self.chunk, byte) {
                (Chunk::Size, b'\r') if self.digits > 0 => Chunk::SizeLf,
                (Chunk::Size, b';' | b' ' | b'\t') if self.digits > 0 => Chunk::Extension,
                (Chunk::Size, b) => {
                    let digit = (b as char)
                        .to_digit(16)
                        .ok_or_else(|| bad("bad chunk size"))?;
                    self.digits += 1;
                    if self.digits > 16 {
                        return Err(bad("chunk size too large"));
                    }
                    self.size = self.size << 4 | u64::from(digit);
                    Chunk::Size
                }
                (Chunk::Extension, b'\r') => Chunk::SizeLf,
                (Chunk::Extension, b'\n') => return Err(bad("bare LF in a chunk line")),
                (Chunk::Extension, _) => Chunk::Extension,
                (Chunk::SizeLf, b'\n') => {
                    let size = self.size;
                    self.size = 0;
                    self.digits = 0;
                    self.line = 0;
                    if size == 0 {
                        Chunk::TrailerStart
                    } else {
                        Chunk::Data(size)
                    }
                }
                (Chunk::DataCr, b'\r') => Chunk::DataLf,
                (Chunk::DataLf, b'\n') => Chunk::Size,
                (Chunk::TrailerStart, b'\r') => Chunk::EndLf,
                (Chunk::TrailerStart, b'\n') => return Err(bad("bare LF in the trailers")),
                (Chunk::Trailer, b'\r') => Chunk::TrailerLf,
                (Chunk::TrailerStart | Chunk::Trailer, _) => {
                    self.trailers += 1;
                    if self.trailers > MAX_HEAD {
                        return Err(bad("trailers too large"));
                    }
                    Chunk::Trailer
                }
                (Chunk::TrailerLf, b'\n') => {
                    self.line = 0;
                    Chunk::TrailerStart
                }
                (Chunk::EndLf, b'\n') => {
                    self.done = true;
                    Chunk::EndLf
                }
                _ => return Err(bad("malformed chunked body")),
            };
        }
        Ok(at)
    }
}

fn allows_body(status: StatusCode) -> bool {
    !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED)
}

/// The status line and header fields, with `Date`, `Content-Length` and
/// `Connection` set here (the handler's own framing fields are dropped).
fn write_head(
    out: &mut String,
    status: StatusCode,
    headers: &HeaderMap,
    body_len: usize,
    keep_alive: bool,
) {
    let reason = match status.as_u16() {
        // MS-ASHTTP 3.2.5.2: "Retry with", the signal to provision.
        449 => "Retry With",
        _ => status.canonical_reason().unwrap_or(""),
    };
    let _ = write!(out, "HTTP/1.1 {} {reason}\r\n", status.as_u16());
    let mut has_date = false;
    for (name, value) in headers {
        use axum::http::header;
        if [
            header::CONNECTION,
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
            HeaderName::from_static("keep-alive"),
        ]
        .contains(name)
        {
            continue;
        }
        has_date |= name == header::DATE;
        write_name(out, name.as_str());
        out.push_str(": ");
        // Values are visible ASCII or obs-text (HeaderValue checked).
        match value.to_str() {
            Ok(text) => out.push_str(text),
            Err(_) => out.push_str(&String::from_utf8_lossy(value.as_bytes())),
        }
        out.push_str("\r\n");
    }
    if !has_date {
        out.push_str("Date: ");
        http_date(out, SystemTime::now());
        out.push_str("\r\n");
    }
    if allows_body(status) {
        let _ = write!(out, "Content-Length: {body_len}\r\n");
    }
    out.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
}

/// Header names as Exchange spells them; others in Title-Case.
fn write_name(out: &mut String, name: &str) {
    const SPELLED: &[&str] = &[
        "MS-ASProtocolVersions",
        "MS-ASProtocolCommands",
        "MS-Server-ActiveSync",
        "MS-ASProtocolVersion",
        "X-MS-PolicyKey",
        "X-MS-RP",
        "X-MS-ASThrottle",
        "WWW-Authenticate",
    ];
    if let Some(known) = SPELLED.iter().find(|s| s.eq_ignore_ascii_case(name)) {
        out.push_str(known);
        return;
    }
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
}

/// An IMF-fixdate (RFC 9110 section 5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(out: &mut String, now: SystemTime) {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = crate::protocol::datetime::civil_from_days(days as i64);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let _ = write!(
        out,
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(input: &[u8], max: usize) -> Result<(Vec<u8>, usize, bool), Refusal> {
        let mut d = Decoder::new(Framing::Chunked, max);
        let mut out = Vec::new();
        let used = d.decode(input, &mut out)?;
        Ok((out, used, d.is_done()))
    }

    #[test]
    fn chunked_bodies_decode_with_extensions_and_trailers() {
        let input = b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        let (body, used, done) = chunked(input, 100).unwrap();
        assert_eq!(body, b"hello world");
        assert!(done);
        assert_eq!(&input[used..], b"NEXT");
    }

    #[test]
    fn chunked_bodies_decode_byte_by_byte() {
        let input = b"A\r\n0123456789\r\n0\r\n\r\n";
        let mut d = Decoder::new(Framing::Chunked, 100);
        let mut out = Vec::new();
        for i in 0..input.len() {
            assert!(!d.is_done(), "done early at {i}");
            assert_eq!(d.decode(&input[i..=i], &mut out).unwrap(), 1);
        }
        assert!(d.is_done());
        assert_eq!(out, b"0123456789");
    }

    #[test]
    fn malformed_chunked_bodies_are_refused() {
        for bad in [
            &b"g\r\n"[..],
            b"\r\n",
            b"5\nhello",
            b"5\r\nhelloX\r\n",
            b"11111111111111111\r\n",
        ] {
            let e = chunked(bad, 100).err();
            assert_eq!(
                e.map(|r| r.status),
                Some(StatusCode::BAD_REQUEST),
                "{bad:?}"
            );
        }
        let e = chunked(b"5\r\nhello\r\n5\r\nworld\r\n", 8).err();
        assert_eq!(e.map(|r| r.status), Some(StatusCode::PAYLOAD_TOO_LARGE));
    }

    #[test]
    fn heads_parse_framing_and_connection_options() {
        let head = parse_head(b"POST /x?y HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 10)
            .unwrap()
            .unwrap();
        assert_eq!(head.framing, Framing::Length(3));
        assert!(!head.keep_alive);
        assert_eq!(head.request.uri().query(), Some("y"));
        let head = parse_head(b"POST http://h/x HTTP/1.1\r\nConnection: close\r\n\r\n", 10)
            .unwrap()
            .unwrap();
        assert!(!head.keep_alive);
        assert_eq!(head.request.uri().path(), "/x");
        assert!(
            parse_head(b"POST /x HTTP/1.1\r\nHost: a\r\n", 10)
                .unwrap()
                .is_none()
        );
        let status = |h: &[u8]| parse_head(h, 10).err().map(|r| r.status);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            Some(StatusCode::NOT_IMPLEMENTED)
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"),
            Some(StatusCode::PAYLOAD_TOO_LARGE)
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nExpect: magic\r\n\r\n"),
            Some(StatusCode::EXPECTATION_FAILED)
        );
        assert_eq!(
            status(b"PO ST / HTTP/1.1\r\n\r\n"),
            Some(StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn heads_are_written_with_exchange_spellings_and_framing() {
        let mut headers = HeaderMap::new();
        headers.insert("ms-asprotocolversions", HeaderValue::from_static("14.1"));
        headers.insert("content-type", HeaderValue::from_static("text/plain"));
        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        let mut out = String::new();
        write_head(
            &mut out,
            StatusCode::from_u16(449).unwrap(),
            &headers,
            5,
            true,
        );
        assert!(out.starts_with("HTTP/1.1 449 Retry With\r\n"), "{out}");
        assert!(out.contains("\r\nMS-ASProtocolVersions: 14.1\r\n"), "{out}");
        assert!(out.contains("\r\nContent-Type: text/plain\r\n"), "{out}");
        assert!(out.contains("\r\nContent-Length: 5\r\n"), "{out}");
        assert!(
            !out.to_ascii_lowercase().contains("transfer-encoding"),
            "{out}"
        );
        assert!(out.ends_with("Connection: keep-alive\r\n\r\n"), "{out}");
    }

    #[test]
    fn dates_are_imf_fixdates() {
        let mut out = String::new();
        http_date(&mut out, UNIX_EPOCH + Duration::from_secs(784_111_777));
        assert_eq!(out, "Sun, 06 Nov 1994 08:49:37 GMT");
        out.clear();
        http_date(&mut out, UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(out, "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
