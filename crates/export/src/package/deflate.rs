//! Raw deflate for ZIP entries, where one entry's stream may mix data deflated as it is written
//! with blocks deflated ahead of time (export segments). A block deflated ahead of time is a
//! run of non-final deflate blocks that ends on a byte boundary (a sync flush) and refers to
//! nothing before it, so such blocks can be placed one after another in any stream; the
//! stream's own final block closes it.

use std::io::{self, Write};

use flate2::{Compress, Compression, FlushCompress, Status};

/// Output gathered before it is handed on.
const OUT_CHUNK: usize = 256 * 1024;

/// `raw` deflated on its own, ending in a sync flush: a block to splice into other streams.
pub fn deflate_block(raw: &[u8], level: u32) -> io::Result<Vec<u8>> {
    let mut compress = Compress::new(Compression::new(level), false);
    let mut out = Vec::with_capacity(raw.len() / 4 + 1024);
    run(&mut compress, raw, FlushCompress::Sync, &mut out)?;
    Ok(out)
}

/// Feeds `input` to the compressor and collects what it emits, until the input is taken and
/// the flush is complete (zlib's rule: a call that leaves output space unused is done).
fn run(
    compress: &mut Compress,
    mut input: &[u8],
    flush: FlushCompress,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    loop {
        if out.capacity() - out.len() < 64 * 1024 {
            out.reserve(OUT_CHUNK);
        }
        let before = compress.total_in();
        let status = compress
            .compress_vec(input, out, flush)
            .map_err(io::Error::other)?;
        input = &input[(compress.total_in() - before) as usize..];
        let filled = out.len() == out.capacity();
        let done = match flush {
            FlushCompress::Finish => status == Status::StreamEnd,
            _ => input.is_empty() && !filled,
        };
        if done {
            return Ok(());
        }
    }
}

/// One file's deflate stream: data deflated here, with blocks deflated ahead of time between.
pub struct MixedDeflate {
    compress: Compress,
    out: Vec<u8>,
    /// Data went in since the last flush: a block must not follow before it is flushed.
    pending: bool,
    /// A block went out: the compressor must forget what it saw before (the reader's history
    /// is now the block's data, not the compressor's).
    stale: bool,
}

impl MixedDeflate {
    pub fn new(level: u32) -> Self {
        MixedDeflate {
            compress: Compress::new(Compression::new(level), false),
            out: Vec::with_capacity(OUT_CHUNK + 64 * 1024),
            pending: false,
            stale: false,
        }
    }

    /// Deflates `raw` into the stream.
    pub fn write(&mut self, raw: &[u8], to: &mut impl Write) -> io::Result<()> {
        if self.stale {
            self.compress.reset();
            self.stale = false;
        }
        run(&mut self.compress, raw, FlushCompress::None, &mut self.out)?;
        self.pending = true;
        if self.out.len() >= OUT_CHUNK {
            to.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// Places a block from [`deflate_block`] in the stream as it is.
    pub fn splice(&mut self, block: &[u8], to: &mut impl Write) -> io::Result<()> {
        if self.pending {
            run(&mut self.compress, &[], FlushCompress::Sync, &mut self.out)?;
            self.pending = false;
        }
        to.write_all(&self.out)?;
        self.out.clear();
        to.write_all(block)?;
        self.stale = true;
        Ok(())
    }

    /// Ends the stream with its final block.
    pub fn finish(mut self, to: &mut impl Write) -> io::Result<()> {
        if self.stale {
            self.compress.reset();
        }
        run(
            &mut self.compress,
            &[],
            FlushCompress::Finish,
            &mut self.out,
        )?;
        to.write_all(&self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::DeflateDecoder;
    use std::io::Read;

    fn inflate(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        DeflateDecoder::new(data)
            .read_to_end(&mut out)
            .expect("a valid stream");
        out
    }

    fn text(seed: u32, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"abcdefgh, \r\n"[((i as u32).wrapping_mul(seed) % 12) as usize])
            .collect()
    }

    #[test]
    fn spliced_blocks_and_live_data_inflate_to_their_concatenation() {
        let (a, b, c, d) = (
            text(7, 300_000),
            text(11, 5_000),
            text(13, 70_000),
            text(7, 9),
        );
        let mut stream = Vec::new();
        let mut deflate = MixedDeflate::new(1);
        deflate.write(&a, &mut stream).unwrap();
        deflate
            .splice(&deflate_block(&b, 1).unwrap(), &mut stream)
            .unwrap();
        deflate
            .splice(&deflate_block(&c, 6).unwrap(), &mut stream)
            .unwrap();
        // Live data right after a block repeats the earlier live data: a compressor that kept
        // its history would refer back past the block and corrupt the stream.
        deflate.write(&a[..50_000], &mut stream).unwrap();
        deflate.write(&d, &mut stream).unwrap();
        deflate.finish(&mut stream).unwrap();
        let expected = [&a[..], &b, &c, &a[..50_000], &d].concat();
        assert_eq!(inflate(&stream), expected);
    }

    #[test]
    fn a_stream_of_blocks_only_or_of_nothing_is_valid() {
        let mut stream = Vec::new();
        let deflate = MixedDeflate::new(1);
        deflate.finish(&mut stream).unwrap();
        assert_eq!(inflate(&stream), b"");

        let (a, b) = (text(3, 1000), text(5, 2000));
        let mut stream = Vec::new();
        let mut deflate = MixedDeflate::new(1);
        for block in [&a, &b] {
            deflate
                .splice(&deflate_block(block, 1).unwrap(), &mut stream)
                .unwrap();
        }
        deflate.finish(&mut stream).unwrap();
        assert_eq!(inflate(&stream), [a, b].concat());
    }
}
