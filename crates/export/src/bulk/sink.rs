//! Where a bulk export's files go: entries of one streamed ZIP, or separate files in a
//! directory (one download link each). Either way the files are written, checksummed and (for
//! the ZIP) deflated by a thread of their own, so that work runs beside the reading and
//! formatting that feed it.

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

/// Builds the last file (the manifest) from the entries of the files before it.
pub type LastFile = Box<dyn FnOnce(&[FileEntry]) -> io::Result<(String, Vec<u8>)> + Send>;

/// What a writer thread does with files; it runs on that thread only.
trait Files: Send + 'static {
    type Output: Send + 'static;
    fn begin(&mut self, name: &str, compress: bool) -> io::Result<()>;
    fn write(&mut self, chunk: &[u8]) -> io::Result<()>;
    fn end(&mut self) -> io::Result<()>;
    fn close(self) -> io::Result<Self::Output>;
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

enum Message {
    Begin(String, bool),
    Data(Vec<u8>),
    End,
    Finish(LastFile),
}

/// What the writer thread hands back: its output and every file's entry.
type Finished<O> = io::Result<(O, Vec<FileEntry>)>;

/// Files written by a thread of their own; chunks wait in a short queue.
struct Threaded<O> {
    sender: Option<crossbeam_channel::Sender<Message>>,
    thread: Option<JoinHandle<Finished<O>>>,
}

fn run<F: Files>(
    mut files: F,
    receiver: crossbeam_channel::Receiver<Message>,
) -> Finished<F::Output> {
    let mut entries = Vec::new();
    let mut current: Option<Digesting> = None;
    for message in receiver {
        match message {
            Message::Begin(name, compress) => {
                files.begin(&name, compress)?;
                current = Some(Digesting::new(&name));
            }
            Message::Data(chunk) => {
                files.write(&chunk)?;
                if let Some(d) = current.as_mut() {
                    d.update(&chunk);
                }
            }
            Message::End => {
                files.end()?;
                entries.extend(current.take().map(Digesting::entry));
            }
            Message::Finish(last) => {
                let (name, bytes) = last(&entries)?;
                files.begin(&name, true)?;
                files.write(&bytes)?;
                files.end()?;
                let mut digest = Digesting::new(&name);
                digest.update(&bytes);
                entries.push(digest.entry());
                return Ok((files.close()?, entries));
            }
        }
    }
    Err(io::Error::other(
        "the export stopped before its files were finished",
    ))
}

impl<O: Send + 'static> Threaded<O> {
    fn start<F: Files<Output = O>>(files: F) -> Self {
        let (sender, receiver) = crossbeam_channel::bounded::<Message>(8);
        let thread = std::thread::Builder::new()
            .name("ferry-files".into())
            .spawn(move || run(files, receiver))
            .expect("spawn the file writer thread");
        Threaded {
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
                .unwrap_or_else(|| io::Error::other("the file writer stopped"))),
        }
    }

    fn join(&mut self) -> Finished<O> {
        self.sender = None;
        match self.thread.take() {
            Some(handle) => handle
                .join()
                .map_err(|_| io::Error::other("the file writer thread panicked"))?,
            None => Err(io::Error::other("the files were finished already")),
        }
    }

    fn finish(
        &mut self,
        last: impl FnOnce(&[FileEntry]) -> io::Result<(String, Vec<u8>)> + Send + 'static,
    ) -> Finished<O> {
        self.send(Message::Finish(Box::new(last)))?;
        self.join()
    }
}

impl<O> Drop for Threaded<O> {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(handle) = self.thread.take() {
            let _ = handle.join();
        }
    }
}

impl<O: Send + 'static> PartSink for Threaded<O> {
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

struct ZipFiles<W: Write + Send + 'static> {
    zip: ZipWriter<zip::write::StreamWriter<W>>,
    level: i64,
}

impl<W: Write + Send + 'static> Files for ZipFiles<W> {
    type Output = W;

    fn begin(&mut self, name: &str, compress: bool) -> io::Result<()> {
        self.zip
            .start_file(name, options(compress, self.level))
            .map_err(zip_error)
    }

    fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.zip.write_all(chunk)
    }

    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn close(self) -> io::Result<W> {
        Ok(self.zip.finish().map_err(zip_error)?.into_inner())
    }
}

/// One ZIP (streamed, ZIP64, entries dated 1980), deflated on the writer thread.
pub struct ZipSink<W: Write + Send + 'static>(Threaded<W>);

impl<W: Write + Send + 'static> PartSink for ZipSink<W> {
    fn begin(&mut self, name: &str, compress: bool) -> io::Result<()> {
        self.0.begin(name, compress)
    }

    fn write(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        self.0.write(chunk)
    }

    fn end(&mut self) -> io::Result<()> {
        self.0.end()
    }
}

impl<W: Write + Send + 'static> ZipSink<W> {
    /// `level`: deflate level; 1 is several times faster than 6 for a few per cent more bytes.
    pub fn new(out: W, level: i64) -> Self {
        ZipSink(Threaded::start(ZipFiles {
            zip: ZipWriter::new_stream(out),
            level,
        }))
    }

    /// Writes the manifest that `last` builds from the other files' entries, closes the ZIP and
    /// returns the output with every file's entry (the manifest's last).
    pub fn finish(
        mut self,
        last: impl FnOnce(&[FileEntry]) -> io::Result<(String, Vec<u8>)> + Send + 'static,
    ) -> Finished<W> {
        self.0.finish(last)
    }
}

struct DirFiles {
    dir: PathBuf,
    durable: bool,
    current: Option<BufWriter<File>>,
}

impl Files for DirFiles {
    type Output = ();

    fn begin(&mut self, name: &str, _compress: bool) -> io::Result<()> {
        let file = File::create(self.dir.join(name))?;
        self.current = Some(BufWriter::with_capacity(1 << 20, file));
        Ok(())
    }

    fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        match self.current.as_mut() {
            Some(out) => out.write_all(chunk),
            None => Ok(()),
        }
    }

    fn end(&mut self) -> io::Result<()> {
        if let Some(out) = self.current.take() {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            if self.durable {
                file.sync_all()?;
            }
        }
        Ok(())
    }

    fn close(self) -> io::Result<()> {
        Ok(())
    }
}

/// Each file separately in a directory, written on the writer thread.
pub struct DirSink(Threaded<()>);

impl PartSink for DirSink {
    fn begin(&mut self, name: &str, compress: bool) -> io::Result<()> {
        self.0.begin(name, compress)
    }

    fn write(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        self.0.write(chunk)
    }

    fn end(&mut self) -> io::Result<()> {
        self.0.end()
    }
}

impl DirSink {
    /// `durable`: sync each file to disk when it ends (before a job may be marked completed).
    pub fn new(dir: &Path, durable: bool) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(DirSink(Threaded::start(DirFiles {
            dir: dir.to_path_buf(),
            durable,
            current: None,
        })))
    }

    /// Writes the manifest `last` builds and returns every file's entry (the manifest's last).
    pub fn finish(
        mut self,
        last: impl FnOnce(&[FileEntry]) -> io::Result<(String, Vec<u8>)> + Send + 'static,
    ) -> io::Result<Vec<FileEntry>> {
        self.0.finish(last).map(|(_, entries)| entries)
    }
}
