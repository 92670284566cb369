//! Where a bulk export's files go: entries of one streamed ZIP, deflated on a thread of its own
//! so compression runs beside the reading and formatting, or separate files in a directory (one
//! download link each). Both checksum every file for the manifest as it passes.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::package::FileEntry;

/// A sequence of files, each begun, written in chunks, and ended.
pub trait PartSink: Send {
    /// `compress`: worth deflating (not for already compressed Parquet).
    fn begin(&mut self, name: &str, compress: bool) -> io::Result<()>;
    fn write(&mut self, chunk: Vec<u8>) -> io::Result<()>;
    fn end(&mut self) -> io::Result<()>;
}

/// Sizes and checksums of a file as it is written.
struct Digesting {
    name: String,
    hasher: Sha256,
    bytes: u64,
}

impl Digesting {
    fn new(name: &str) -> Self {
        Digesting {
            name: name.to_string(),
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
    }

    fn entry(self) -> FileEntry {
        FileEntry {
            name: self.name,
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        }
    }
}

/// Builds the last file (the manifest) from the entries of the files before it.
pub type LastFile = Box<dyn FnOnce(&[FileEntry]) -> io::Result<(String, Vec<u8>)> + Send>;

/// What the ZIP thread hands back: the output and every file's entry.
type Finished<W> = io::Result<(W, Vec<FileEntry>)>;

enum Message {
    Begin(String, bool),
    Data(Vec<u8>),
    End,
    /// The last file (the manifest), built from the entries written so far.
    Finish(LastFile),
}

/// One ZIP, written by its own thread; chunks wait in a short queue.
pub struct ZipSink<W: Write + Send + 'static> {
    sender: Option<crossbeam_channel::Sender<Message>>,
    thread: Option<JoinHandle<Finished<W>>>,
}

fn zip_error(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e)
}

fn options(compress: bool, level: i64) -> SimpleFileOptions {
    let method = if compress {
        CompressionMethod::Deflated
    } else {
        CompressionMethod::Stored
    };
    SimpleFileOptions::default()
        .compression_method(method)
        .compression_level(compress.then_some(level))
        .last_modified_time(zip::DateTime::default())
        .large_file(true)
}

impl<W: Write + Send + 'static> ZipSink<W> {
    /// `level`: deflate level; 1 is several times faster than 6 for a few per cent more bytes.
    pub fn new(out: W, level: i64) -> Self {
        let (sender, receiver) = crossbeam_channel::bounded::<Message>(8);
        let thread = std::thread::Builder::new()
            .name("ferry-zip".into())
            .spawn(move || {
                let mut zip = ZipWriter::new_stream(out);
                let mut files = Vec::new();
                let mut current: Option<Digesting> = None;
                for message in receiver {
                    match message {
                        Message::Begin(name, compress) => {
                            zip.start_file(name.as_str(), options(compress, level))
                                .map_err(zip_error)?;
                            current = Some(Digesting::new(&name));
                        }
                        Message::Data(chunk) => {
                            zip.write_all(&chunk)?;
                            if let Some(d) = current.as_mut() {
                                d.update(&chunk);
                            }
                        }
                        Message::End => files.extend(current.take().map(Digesting::entry)),
                        Message::Finish(last) => {
                            let (name, bytes) = last(&files)?;
                            zip.start_file(name.as_str(), options(true, level))
                                .map_err(zip_error)?;
                            zip.write_all(&bytes)?;
                            let mut last = Digesting::new(&name);
                            last.update(&bytes);
                            files.push(last.entry());
                            let out = zip.finish().map_err(zip_error)?.into_inner();
                            return Ok((out, files));
                        }
                    }
                }
                Err(io::Error::other(
                    "the export stopped before its ZIP was finished",
                ))
            })
            .expect("spawn the ZIP thread");
        ZipSink {
            sender: Some(sender),
            thread: Some(thread),
        }
    }

    fn send(&mut self, message: Message) -> io::Result<()> {
        let sent = self.sender.as_ref().map(|s| s.send(message));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped: its own error says why.
            _ => Err(self
                .join()
                .err()
                .unwrap_or_else(|| io::Error::other("ZIP writer stopped"))),
        }
    }

    fn join(&mut self) -> io::Result<(W, Vec<FileEntry>)> {
        self.sender = None;
        match self.thread.take() {
            Some(handle) => handle
                .join()
                .map_err(|_| io::Error::other("the ZIP thread panicked"))?,
            None => Err(io::Error::other("the ZIP was finished already")),
        }
    }

    /// Writes the manifest that `last` builds from the other files' entries, closes the ZIP and
    /// returns the output with every file's entry (the manifest's last).
    pub fn finish(
        mut self,
        last: impl FnOnce(&[FileEntry]) -> io::Result<(String, Vec<u8>)> + Send + 'static,
    ) -> io::Result<(W, Vec<FileEntry>)> {
        self.send(Message::Finish(Box::new(last)))?;
        self.join()
    }
}

impl<W: Write + Send + 'static> PartSink for ZipSink<W> {
    fn begin(&mut self, name: &str, compress: bool) -> io::Result<()> {
        self.send(Message::Begin(name.to_string(), compress))
    }

    fn write(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        self.send(Message::Data(chunk))
    }

    fn end(&mut self) -> io::Result<()> {
        self.send(Message::End)
    }
}

impl<W: Write + Send + 'static> Drop for ZipSink<W> {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(handle) = self.thread.take() {
            let _ = handle.join();
        }
    }
}

/// Each file separately in a directory.
pub struct DirSink {
    dir: PathBuf,
    /// Sync each file to disk when it ends (before a job may be marked completed).
    durable: bool,
    current: Option<(BufWriter<File>, Digesting)>,
    files: Vec<FileEntry>,
}

impl DirSink {
    pub fn new(dir: &Path, durable: bool) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(DirSink {
            dir: dir.to_path_buf(),
            durable,
            current: None,
            files: Vec::new(),
        })
    }

    /// Writes the manifest `last` builds and returns every file's entry (the manifest's last).
    pub fn finish(
        mut self,
        last: impl FnOnce(&[FileEntry]) -> io::Result<(String, Vec<u8>)>,
    ) -> io::Result<Vec<FileEntry>> {
        let (name, bytes) = last(&self.files)?;
        self.begin(&name, false)?;
        self.write(bytes)?;
        self.end()?;
        Ok(self.files)
    }
}

impl PartSink for DirSink {
    fn begin(&mut self, name: &str, _compress: bool) -> io::Result<()> {
        let file = File::create(self.dir.join(name))?;
        self.current = Some((
            BufWriter::with_capacity(1 << 20, file),
            Digesting::new(name),
        ));
        Ok(())
    }

    fn write(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        if let Some((out, digest)) = self.current.as_mut() {
            out.write_all(&chunk)?;
            digest.update(&chunk);
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        if let Some((out, digest)) = self.current.take() {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            if self.durable {
                file.sync_all()?;
            }
            self.files.push(digest.entry());
        }
        Ok(())
    }
}
