//! A request body read by blocking code (a restore unpacking a tar, an import parsing a
//! statement): the async side sends the body's chunks through a bounded channel, so memory
//! stays at a few chunks whatever the body's size.

use std::io::Read;

use axum::body::Bytes;

pub type Chunk = Result<Bytes, std::io::Error>;

/// The blocking end of the channel, as a [`Read`].
pub struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Chunk>,
    current: Bytes,
}

impl ChannelReader {
    pub fn new(rx: tokio::sync::mpsc::Receiver<Chunk>) -> Self {
        Self {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}
