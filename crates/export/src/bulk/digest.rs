//! The size and SHA-256 of each file, computed on a thread of its own beside the one that
//! writes (or deflates) the files: hashing a gigabyte costs about as much as writing it.

use std::io::{self, Write};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::segment::Block;
use crate::hashing::HashingWriter;
use crate::package::FileEntry;

/// A file's size and checksum, taken from bytes that were written elsewhere.
pub(crate) struct Digesting {
    name: String,
    hashing: HashingWriter<io::Sink>,
}

impl Digesting {
    pub(crate) fn new(name: &str) -> Self {
        Digesting {
            name: name.to_string(),
            hashing: HashingWriter::new(io::sink()),
        }
    }

    pub(crate) fn update(&mut self, chunk: &[u8]) {
        // A sink takes every byte, so nothing is left unhashed.
        let _ = self.hashing.write_all(chunk);
    }

    pub(crate) fn entry(self) -> FileEntry {
        self.hashing.into_entry(&self.name).1
    }
}

/// Bytes both the writer and the hashing thread read.
#[derive(Clone)]
pub(crate) enum Shared {
    Chunk(Arc<Vec<u8>>),
    Block(Arc<Block>),
}

impl Shared {
    pub(crate) fn raw(&self) -> &[u8] {
        match self {
            Shared::Chunk(c) => c,
            Shared::Block(b) => &b.raw,
        }
    }
}

enum Message {
    Begin(String),
    Bytes(Shared),
    End,
}

/// The hashing thread; files are digested one after another, in the order they are written.
pub(crate) struct Digests {
    sender: Option<crossbeam_channel::Sender<Message>>,
    done: crossbeam_channel::Receiver<FileEntry>,
    thread: Option<JoinHandle<()>>,
}

fn stopped() -> io::Error {
    io::Error::other("the checksum thread stopped")
}

impl Digests {
    pub(crate) fn start() -> io::Result<Self> {
        let (sender, receiver) = crossbeam_channel::bounded::<Message>(4);
        let (finished, done) = crossbeam_channel::bounded(1);
        let thread = std::thread::Builder::new()
            .name("ferry-sha256".into())
            .spawn(move || {
                let mut current = None;
                for message in receiver {
                    match message {
                        Message::Begin(name) => current = Some(Digesting::new(&name)),
                        Message::Bytes(bytes) => {
                            if let Some(d) = current.as_mut() {
                                d.update(bytes.raw());
                            }
                        }
                        Message::End => {
                            let sent = current.take().map(|d| finished.send(d.entry()));
                            if matches!(sent, Some(Err(_))) {
                                return;
                            }
                        }
                    }
                }
            })?;
        Ok(Digests {
            sender: Some(sender),
            done,
            thread: Some(thread),
        })
    }

    fn send(&self, message: Message) -> io::Result<()> {
        match &self.sender {
            Some(s) => s.send(message).map_err(|_| stopped()),
            None => Err(stopped()),
        }
    }

    pub(crate) fn begin(&self, name: &str) -> io::Result<()> {
        self.send(Message::Begin(name.to_string()))
    }

    pub(crate) fn update(&self, bytes: Shared) -> io::Result<()> {
        self.send(Message::Bytes(bytes))
    }

    /// The file's entry, once every byte of it is hashed.
    pub(crate) fn end(&self) -> io::Result<FileEntry> {
        self.send(Message::End)?;
        self.done.recv().map_err(|_| stopped())
    }
}

impl Drop for Digests {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
