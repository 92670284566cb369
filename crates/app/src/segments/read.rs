//! Hands an export one data type's pieces in order, from a thread of its own: a segment's
//! blocks read and inflated (and checked against their CRC) ahead of the writer, live
//! stretches forwarded from the store's batches.

use std::io;

use ferry_export::bulk::Piece;
use ferry_export::bulk::segment::SegmentReader;
use ferry_store::{BatchStream, Window};

use super::SegmentFiles;
use super::plan::Stretch;

/// Pieces waiting for the writer: a few blocks of about 1 MB each.
const AHEAD: usize = 4;

type Sender<R> = crossbeam_channel::Sender<io::Result<Piece<R>>>;

/// Forwards a live stretch; false once the export stopped listening.
fn forward<R>(batches: BatchStream<R>, to: &Sender<R>) -> bool {
    for batch in batches {
        let piece = batch.map(Piece::Rows).map_err(io::Error::other);
        let failed = piece.is_err();
        if to.send(piece).is_err() || failed {
            return false;
        }
    }
    true
}

/// Starts the thread. `live` opens a stretch's rows in the store; `damaged` forgets a segment
/// whose file is missing or damaged, so the next export reads that day live.
pub fn pieces<R: Send + 'static>(
    stretches: Vec<Stretch>,
    files: SegmentFiles,
    live: impl Fn(Window) -> BatchStream<R> + Send + 'static,
    damaged: impl Fn(i64) + Send + 'static,
) -> io::Result<crossbeam_channel::Receiver<io::Result<Piece<R>>>> {
    let (sender, receiver) = crossbeam_channel::bounded(AHEAD);
    std::thread::Builder::new()
        .name("ferry-segments".into())
        .spawn(move || {
            for stretch in stretches {
                let record = match stretch {
                    Stretch::Live(window) => {
                        if !forward(live(window), &sender) {
                            return;
                        }
                        continue;
                    }
                    Stretch::Segment(record) => record,
                };
                let reader = SegmentReader::open(&files.path(record.id))
                    .and_then(|r| match r.rows() == record.rows {
                        true => Ok(r),
                        false => Err(io::Error::other("its rows differ from its record")),
                    });
                let reader = match reader {
                    Ok(reader) => reader,
                    Err(e) => {
                        // Nothing of it was sent yet: read its day live instead.
                        tracing::warn!(segment = record.id, error = %e, "export segment unusable; reading its day live");
                        damaged(record.id);
                        if !forward(live(record.key.window), &sender) {
                            return;
                        }
                        continue;
                    }
                };
                for block in reader {
                    let failed = block.is_err();
                    if failed {
                        tracing::error!(segment = record.id, "export segment damaged part-way; the export fails and its retry reads the day live");
                        damaged(record.id);
                    }
                    if sender.send(block.map(Piece::Formatted)).is_err() || failed {
                        return;
                    }
                }
            }
        })?;
    Ok(receiver)
}
