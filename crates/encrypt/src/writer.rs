//! The encryptor stage as a `Write`: what the packager writes is encrypted on a thread of its
//! own (rPGP pulls from a reader; the packager pushes), so packaging and encryption overlap and
//! an export takes hardly longer encrypted than not. Memory stays at a few chunks in flight.

use std::io::{self, Read, Write};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};
use pgp::composed::MessageBuilder;
use pgp::crypto::sym::SymmetricKeyAlgorithm;

use crate::Recipient;

/// Bytes handed to the encrypting thread at a time.
const CHUNK: usize = 256 * 1024;
/// Chunks in flight between the packager and the encrypting thread.
const IN_FLIGHT: usize = 8;

/// Encrypts everything written to it to one recipient, as a binary OpenPGP message (SEIPDv1,
/// AES-256, no compression: the ZIP inside is compressed already) into `W`.
pub struct EncryptingWriter<W: Write + Send + 'static> {
    buffer: Vec<u8>,
    chunks: Option<Sender<Vec<u8>>>,
    thread: Option<JoinHandle<pgp::errors::Result<W>>>,
}

impl<W: Write + Send + 'static> EncryptingWriter<W> {
    /// `name` is the file name recorded inside the message (what `gpg --use-embedded-filename`
    /// would write).
    pub fn new(recipient: &Recipient, name: &str, out: W) -> io::Result<Self> {
        let (chunks, incoming) = bounded::<Vec<u8>>(IN_FLIGHT);
        let reader = ChunkReader {
            incoming,
            current: Vec::new(),
            at: 0,
        };
        let (recipient, name) = (recipient.clone(), name.to_string());
        // rPGP's builder is not `Send`: it is made on the thread that drives it.
        let thread = std::thread::Builder::new()
            .name("ferry-encrypt".into())
            .spawn(move || {
                let mut rng = rand::thread_rng();
                let mut builder = MessageBuilder::from_reader(name, reader)
                    .seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
                match recipient.subkey {
                    Some(i) => builder.encrypt_to_key(&mut rng, &recipient.key.public_subkeys[i]),
                    None => builder.encrypt_to_key(&mut rng, &recipient.key.primary_key),
                }?;
                let mut out = out;
                builder.to_writer(&mut rng, &mut out)?;
                Ok(out)
            })?;
        Ok(EncryptingWriter {
            buffer: Vec::with_capacity(CHUNK),
            chunks: Some(chunks),
            thread: Some(thread),
        })
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        let sent = self.chunks.as_ref().map(|c| c.send(chunk));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped early: its own error is the real one.
            _ => Err(self.stop().err().unwrap_or_else(|| {
                io::Error::other("the encryption thread stopped before the data ended")
            })),
        }
    }

    fn stop(&mut self) -> io::Result<W> {
        self.chunks.take();
        let thread = self
            .thread
            .take()
            .ok_or_else(|| io::Error::other("the encryption already ended"))?;
        match thread.join() {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(io::Error::other(e)),
            Err(_) => Err(io::Error::other("the encryption thread panicked")),
        }
    }

    /// Ends the message and hands back the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.send()?;
        self.stop()
    }
}

impl<W: Write + Send + 'static> Write for EncryptingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buffer.len();
        let take = room.min(buf.len());
        self.buffer.extend_from_slice(&buf[..take]);
        if self.buffer.len() == CHUNK {
            self.send()?;
        }
        Ok(take)
    }

    /// Buffered bytes go to the thread; they reach `W` when the message ends.
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl<W: Write + Send + 'static> Drop for EncryptingWriter<W> {
    /// Abandoned (an error upstream): the thread ends at the closed channel.
    fn drop(&mut self) {
        self.chunks.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The encrypting thread's source: the chunks the packager sent, in order; the end of the
/// data when the sender is gone.
struct ChunkReader {
    incoming: Receiver<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            match self.incoming.recv() {
                Ok(chunk) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
