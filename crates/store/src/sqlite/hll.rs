//! HyperLogLog sketches of visitor numbers: how the rollups count distinct visitors over any
//! range without keeping every visitor of every bucket.
//!
//! Precision 12 (4,096 one-byte registers): standard error 1.04/√4096 ≈ 1.6%, and small sets
//! (up to about 10,000) are counted by linear counting, which is closer still. Adding a visitor
//! twice changes nothing and the union of two sketches is their register-wise maximum, so a
//! bucket's sketch is the same whether it grew visitor by visitor or was rebuilt from the rows.
//!
//! Stored form (a BLOB): exactly [`REGISTERS`] bytes is the dense form, one register a byte;
//! anything shorter is the sparse form, 3 bytes per non-zero register (u16 LE index, u8 rank) in
//! index order. 4,096 is no multiple of 3, so the two never read alike. A 15-minute bucket
//! usually holds a few hundred visitors, for which the sparse form is 10× smaller.

const PRECISION: u32 = 12;
pub(crate) const REGISTERS: usize = 1 << PRECISION;
const SPARSE_ENTRY: usize = 3;

#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Sketch {
    registers: Box<[u8; REGISTERS]>,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch {
            registers: Box::new([0; REGISTERS]),
        }
    }
}

/// A fixed 64-bit mix (splitmix64's finaliser) of the visitor's row number: well spread, and the
/// same in every process, so stored sketches stay comparable.
fn hash(visitor_pk: i64) -> u64 {
    let mut z = (visitor_pk as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The register a visitor sets and the rank it offers there.
fn register(visitor_pk: i64) -> (u16, u8) {
    let h = hash(visitor_pk);
    let index = (h >> (64 - PRECISION)) as u16;
    let rest = h << PRECISION;
    let rank = (rest.leading_zeros() + 1).min(64 - PRECISION + 1) as u8;
    (index, rank)
}

/// The stored sketch `blob` with `visitors` added, in the same bytes as
/// `Sketch::from_blob(blob)` + `add` + `to_blob` would give, but without expanding a sparse
/// sketch to its 4,096 registers: ingest does this for every bucket and URL a batch touches,
/// most of which hold a few dozen visitors.
pub(crate) fn add_to_blob(blob: &[u8], visitors: &[i64]) -> Vec<u8> {
    if blob.len() == REGISTERS {
        let mut sketch = Sketch::from_blob(blob);
        visitors.iter().for_each(|v| sketch.add(*v));
        return sketch.to_blob();
    }
    let mut entries: Vec<(u16, u8)> = blob
        .chunks_exact(SPARSE_ENTRY)
        .map(|e| (u16::from_le_bytes([e[0], e[1]]), e[2]))
        .filter(|(index, _)| usize::from(*index) < REGISTERS)
        .chain(visitors.iter().map(|v| register(*v)))
        .collect();
    entries.sort_unstable();
    // Sorted by (index, rank): the last of each index's run holds its highest rank.
    let mut kept: Vec<(u16, u8)> = Vec::with_capacity(entries.len());
    for (index, rank) in entries {
        match kept.last_mut() {
            Some(last) if last.0 == index => last.1 = rank,
            _ => kept.push((index, rank)),
        }
    }
    kept.retain(|(_, rank)| *rank != 0);
    if kept.len() * SPARSE_ENTRY >= REGISTERS {
        let mut sketch = Sketch::default();
        for (index, rank) in kept {
            sketch.registers[usize::from(index)] = rank;
        }
        return sketch.to_blob();
    }
    let mut out = Vec::with_capacity(kept.len() * SPARSE_ENTRY);
    for (index, rank) in kept {
        out.extend_from_slice(&index.to_le_bytes());
        out.push(rank);
    }
    out
}

impl Sketch {
    pub(crate) fn add(&mut self, visitor_pk: i64) {
        let (index, rank) = register(visitor_pk);
        let slot = &mut self.registers[usize::from(index)];
        *slot = (*slot).max(rank);
    }

    pub(crate) fn merge(&mut self, other: &Sketch) {
        for (a, b) in self.registers.iter_mut().zip(other.registers.iter()) {
            *a = (*a).max(*b);
        }
    }

    /// Merges a stored sketch in; a malformed blob (never written by Ferry) is ignored.
    pub(crate) fn merge_blob(&mut self, blob: &[u8]) {
        if blob.len() == REGISTERS {
            for (a, b) in self.registers.iter_mut().zip(blob) {
                *a = (*a).max(*b);
            }
            return;
        }
        for entry in blob.chunks_exact(SPARSE_ENTRY) {
            let index = u16::from_le_bytes([entry[0], entry[1]]) as usize;
            if let Some(slot) = self.registers.get_mut(index) {
                *slot = (*slot).max(entry[2]);
            }
        }
    }

    pub(crate) fn from_blob(blob: &[u8]) -> Sketch {
        let mut sketch = Sketch::default();
        sketch.merge_blob(blob);
        sketch
    }

    pub(crate) fn to_blob(&self) -> Vec<u8> {
        let used = self.registers.iter().filter(|r| **r != 0).count();
        if used * SPARSE_ENTRY >= REGISTERS {
            return self.registers.to_vec();
        }
        let mut blob = Vec::with_capacity(used * SPARSE_ENTRY);
        for (index, rank) in self.registers.iter().enumerate() {
            if *rank != 0 {
                blob.extend_from_slice(&(index as u16).to_le_bytes());
                blob.push(*rank);
            }
        }
        blob
    }

    /// The estimated number of distinct visitors added.
    pub(crate) fn estimate(&self) -> u64 {
        let m = REGISTERS as f64;
        let mut sum = 0.0;
        let mut zeros = 0usize;
        for r in self.registers.iter() {
            sum += 1.0 / f64::from(1u32 << (*r).min(31));
            zeros += usize::from(*r == 0);
        }
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_stays_within_its_documented_bound_and_duplicates_count_once() {
        for n in [
            1u64, 10, 100, 1_000, 5_000, 10_000, 20_000, 50_000, 200_000, 1_000_000,
        ] {
            let mut sketch = Sketch::default();
            for pk in 0..n as i64 {
                sketch.add(pk * 7 + 3);
                sketch.add(pk * 7 + 3);
            }
            let error = (sketch.estimate() as f64 - n as f64).abs() / n as f64;
            // README: within 5% (about three standard errors).
            assert!(error <= 0.05, "{n}: estimated {}", sketch.estimate());
        }
    }

    #[test]
    fn adding_to_a_stored_sketch_gives_the_bytes_of_the_sketch_of_the_union() {
        for (before, added) in [
            (0i64, 1i64),
            (0, 40),
            (30, 30),
            (1_000, 400),
            (1_300, 200),
            (5_000, 50),
        ] {
            let mut sketch = Sketch::default();
            (0..before).for_each(|v| sketch.add(v));
            let stored = sketch.to_blob();
            let visitors: Vec<i64> = (before / 2..before / 2 + added).collect();
            visitors.iter().for_each(|v| sketch.add(*v));
            assert_eq!(
                add_to_blob(&stored, &visitors),
                sketch.to_blob(),
                "{before} + {added}"
            );
        }
    }

    #[test]
    fn both_stored_forms_read_back_and_a_union_equals_the_sketch_of_the_union() {
        let (mut a, mut b, mut both) = (Sketch::default(), Sketch::default(), Sketch::default());
        for pk in 0..300 {
            a.add(pk);
            both.add(pk);
        }
        for pk in 200..20_000 {
            b.add(pk);
            both.add(pk);
        }
        assert!(a.to_blob().len() < REGISTERS, "few visitors: sparse");
        assert_eq!(b.to_blob().len(), REGISTERS, "many: dense");
        assert_eq!(Sketch::from_blob(&a.to_blob()), a);
        assert_eq!(Sketch::from_blob(&b.to_blob()), b);
        let mut union = Sketch::from_blob(&a.to_blob());
        union.merge_blob(&b.to_blob());
        assert_eq!(union, both);
        assert_eq!(Sketch::default().to_blob(), Vec::<u8>::new());
    }
}
