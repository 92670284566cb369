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

impl Sketch {
    pub(crate) fn add(&mut self, visitor_pk: i64) {
        let h = hash(visitor_pk);
        let index = (h >> (64 - PRECISION)) as usize;
        let rest = h << PRECISION;
        let rank = (rest.leading_zeros() + 1).min(64 - PRECISION + 1) as u8;
        let slot = &mut self.registers[index];
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
