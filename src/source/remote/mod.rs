//! Images that live behind an API: a local engine (Docker or Podman) and a registry.
//!
//! The clients (bollard, oci-client) are async. The rest of the library is sync, so the
//! tokio runtime lives here and nowhere else: every remote stream is handed out as a
//! plain `std::io::Read`, fed by a task on the runtime through a bounded channel.

pub mod engine;
pub mod inspect;
pub mod registry;

use std::io::{self, Read};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// Chunks a network task may run ahead of the reader: enough to keep a connection busy
/// while the walker is between reads, small enough that memory does not follow layer
/// size (chunks are what the HTTP stack hands out, typically 8–64 KiB).
const CHANNEL_CHUNKS: usize = 64;

/// A runtime for one image's remote I/O. `workers` threads drive the connections;
/// callers block on it from ordinary threads.
pub(crate) fn runtime(workers: usize) -> io::Result<Arc<Runtime>> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .thread_name("layerwaste-net")
        .enable_all()
        .build()
        .map(Arc::new)
}

/// An error and its causes on one line, without repeating a cause its parent already
/// quotes (hyper and reqwest nest "connection refused" three deep).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

/// A blocking reader over an async byte stream.
///
/// A task on the runtime pulls the stream and sends its chunks; the reader receives
/// them. Dropping the reader closes the channel, which ends the task and drops the
/// stream, so an abandoned download closes its connection.
pub(crate) struct StreamReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    done: bool,
    /// Keeps the runtime that drives the task alive as long as the reader.
    _runtime: Arc<Runtime>,
}

impl StreamReader {
    pub(crate) fn new<S, E>(runtime: &Arc<Runtime>, stream: S) -> StreamReader
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: std::error::Error + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        runtime.spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                let item = item.map_err(|e| io::Error::other(error_chain(&e)));
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        });
        StreamReader {
            rx,
            current: Bytes::new(),
            done: false,
            _runtime: Arc::clone(runtime),
        }
    }
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                None => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = self.current.len().min(buf.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_chunks_in_order_and_reports_a_failure_in_the_middle() {
        let rt = runtime(1).unwrap();
        let items: Vec<Result<Bytes, io::Error>> = vec![
            Ok(Bytes::from_static(b"hello ")),
            Ok(Bytes::from_static(b"world")),
            Err(io::Error::other("connection reset")),
            Ok(Bytes::from_static(b"never")),
        ];
        let mut r = StreamReader::new(&rt, futures_util::stream::iter(items));
        let mut got = [0u8; 11];
        r.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello world");
        let err = r.read(&mut got).unwrap_err();
        assert_eq!(err.to_string(), "connection reset");
        assert_eq!(r.read(&mut got).unwrap(), 0);
    }
}
