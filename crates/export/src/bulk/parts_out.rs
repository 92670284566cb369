//! Where a bulk export's files go: entries of one streamed ZIP, or separate files in a
//! directory (one download link each). Either way the files are written, checksummed and (for
//! the ZIP) deflated by a thread of their own, so that work runs beside the reading and
//! formatting that feed it. (Part writers, not sinks: a sink in Ferry is a delivery
//! destination, in the `deliver` crate.)

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::digest::{Digesting, Digests, Shared};
use super::segment::Block;
use super::stage::{FileStage, write_staged};
use crate::package::FileEntry;
use crate::package::zip_stream::ZipStream;

/// A sequence of files, each begun, written in chunks, and ended.
pub trait PartWriter: Send {
    /// `compress`: worth deflating (not for already compressed Parquet).
    fn begin(&mut self, name: &str, compress: bool) -> io::Result<()>;
    fn write(&mut self, chunk: Vec<u8>) -> io::Result<()>;
    /// Rows formatted and deflated ahead of time: a ZIP takes the deflated bytes as they are.
    fn write_block(&mut self, block: Block) -> io::Result<()>;
    fn end(&mut self) -> io::Result<()>;
}

/// Builds the last file (the manifest) from the entries of the files before it.
pub type LastFile = Box<dyn FnOnce(&[FileEntry]) -> io::Result<(String, Vec<u8>)> + Send>;

/// One piece of a file's content, shared with the checksum thread.
type Content = Shared;

/// What a writer thread does with files; it runs on that thread only.
trait Files: Send + 'static {
    type Output: Send + 'static;
    /// Writes one file whose content `next` hands over until it says `None`.
    fn file(
        &mut self,
        name: &str,
        compress: bool,
        next: &mut dyn FnMut() -> io::Result<Option<Content>>,
    ) -> io::Result<()>;
    fn close(self) -> io::Result<Self::Output>;
}

enum Message {
    Begin(String, bool),
    Data(Vec<u8>),
    Block(Block),
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

fn out_of_order() -> io::Error {
    io::Error::other("the export's files arrived out of order")
}

fn run<F: Files>(
    mut files: F,
    receiver: crossbeam_channel::Receiver<Message>,
) -> Finished<F::Output> {
    let mut entries = Vec::new();
    let digests = Digests::start()?;
    while let Ok(message) = receiver.recv() {
        match message {
            Message::Begin(name, compress) => {
                digests.begin(&name)?;
                files.file(&name, compress, &mut || {
                    let shared = match receiver.recv() {
                        Ok(Message::Data(chunk)) => Shared::Chunk(Arc::new(chunk)),
                        Ok(Message::Block(block)) => Shared::Block(Arc::new(block)),
                        Ok(Message::End) => return Ok(None),
                        Ok(_) => return Err(out_of_order()),
                        Err(_) => {
                            return Err(io::Error::other(
                                "the export stopped before its files were finished",
                            ));
                        }
                    };
                    digests.update(shared.clone())?;
                    Ok(Some(shared))
                })?;
                entries.push(digests.end()?);
            }

            Message::Finish(last) => {
                let (name, bytes) = last(&entries)?;
                let mut digest = Digesting::new(&name);
                digest.update(&bytes);
                let mut content = Some(Shared::Chunk(Arc::new(bytes)));
                files.file(&name, true, &mut || Ok(content.take()))?;
                entries.push(digest.entry());
                return Ok((files.close()?, entries));
            }
            _ => return Err(out_of_order()),
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

impl<O: Send + 'static> PartWriter for Threaded<O> {
    fn begin(&mut self, name: &str, compress: bool) -> io::Result<()> {
        self.send(Message::Begin(name.to_string(), compress))
    }

    fn write(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        self.send(Message::Data(chunk))
    }

    fn write_block(&mut self, block: Block) -> io::Result<()> {
        self.send(Message::Block(block))
    }

    fn end(&mut self) -> io::Result<()> {
        self.send(Message::End)
    }
}

/// A part writer that is a [`Threaded`] writer under its own name hands every call to it.
macro_rules! forward_part_writer {
    ([$($param:tt)*] $writer:ty) => {
        impl<$($param)*> PartWriter for $writer {
            fn begin(&mut self, name: &str, compress: bool) -> io::Result<()> {
                self.0.begin(name, compress)
            }

            fn write(&mut self, chunk: Vec<u8>) -> io::Result<()> {
                self.0.write(chunk)
            }

            fn write_block(&mut self, block: Block) -> io::Result<()> {
                self.0.write_block(block)
            }

            fn end(&mut self) -> io::Result<()> {
                self.0.end()
            }
        }
    };
}

struct ZipFiles<W: Write + Send + 'static>(ZipStream<W>);

impl<W: Write + Send + 'static> Files for ZipFiles<W> {
    type Output = W;

    fn file(
        &mut self,
        name: &str,
        compress: bool,
        next: &mut dyn FnMut() -> io::Result<Option<Content>>,
    ) -> io::Result<()> {
        let mut entry = self.0.entry(name, compress)?;
        while let Some(content) = next()? {
            match &content {
                Shared::Block(block) => entry.splice(&block.raw, &block.deflated)?,
                Shared::Chunk(chunk) => entry.write_all(chunk)?,
            }
        }
        entry.finish()
    }

    fn close(self) -> io::Result<W> {
        self.0.finish()
    }
}

/// One ZIP ([`ZipStream`]), deflated on the writer thread.
pub struct ZipParts<W: Write + Send + 'static>(Threaded<W>);

forward_part_writer!([W: Write + Send + 'static] ZipParts<W>);

impl<W: Write + Send + 'static> ZipParts<W> {
    /// `level`: deflate level; 1 is several times faster than 6 for a few per cent more bytes.
    pub fn new(out: W, level: u32) -> Self {
        ZipParts(Threaded::start(ZipFiles(ZipStream::new(out, level))))
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
    stage: Option<Box<dyn FileStage>>,
    /// The files as stored, when they pass a stage (their names and checksums differ from
    /// the content's).
    stored: Vec<FileEntry>,
}

impl Files for DirFiles {
    type Output = Vec<FileEntry>;

    fn file(
        &mut self,
        name: &str,
        _compress: bool,
        next: &mut dyn FnMut() -> io::Result<Option<Content>>,
    ) -> io::Result<()> {
        if let Some(stage) = &self.stage {
            let entry = write_staged(stage.as_ref(), &self.dir, name, self.durable, next)?;
            self.stored.push(entry);
            return Ok(());
        }
        let mut out = BufWriter::with_capacity(1 << 20, File::create(self.dir.join(name))?);
        while let Some(content) = next()? {
            out.write_all(content.raw())?;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        if self.durable {
            file.sync_all()?;
        }
        Ok(())
    }

    fn close(self) -> io::Result<Vec<FileEntry>> {
        Ok(self.stored)
    }
}

/// Each file separately in a directory, written on the writer thread.
pub struct DirParts(Threaded<Vec<FileEntry>>);

forward_part_writer!([] DirParts);

impl DirParts {
    /// `durable`: sync each file to disk when it ends (before a job may be marked completed).
    /// `stage`: what each file passes through on its way to the disk (`None`: nothing).
    pub fn new(dir: &Path, durable: bool, stage: Option<Box<dyn FileStage>>) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(DirParts(Threaded::start(DirFiles {
            dir: dir.to_path_buf(),
            durable,
            stage,
            stored: Vec::new(),
        })))
    }

    /// Writes the manifest `last` builds and returns every file's entry (the manifest's last),
    /// then, when there is a stage, the entries of the files as stored (in the same order).
    pub fn finish(
        mut self,
        last: impl FnOnce(&[FileEntry]) -> io::Result<(String, Vec<u8>)> + Send + 'static,
    ) -> io::Result<(Vec<FileEntry>, Vec<FileEntry>)> {
        self.0
            .finish(last)
            .map(|(stored, entries)| (entries, stored))
    }
}
