//! A few byte strings in one heap block behind a thin (8-byte) pointer.
//!
//! The members of big sets, the fields of big hashes and the members of big
//! sorted sets each cost one of these: a set member `member:123456` is one
//! 16-byte allocation and an 8-byte table slot, where a `Box<[u8]>` would
//! need a 16-byte slot. Redis's `sds` strings play the same part.
//!
//! Block layout: one byte with the number of parts, then each part as a
//! length (one byte below 255, else a 255 marker and a little-endian u64)
//! followed by its bytes. The block is read and written only here; it is
//! this module's `unsafe`, paid for by the memory benchmark
//! (`shared/bench/memory.py`, bytes per element).

use std::alloc::{Layout, alloc, dealloc};
use std::ptr::NonNull;

/// Owned byte strings (at most 255 of them) in one allocation. See the
/// module docs.
pub struct ThinParts {
    ptr: NonNull<u8>,
}

// SAFETY: a ThinParts exclusively owns its block, like a Box<[u8]>.
unsafe impl Send for ThinParts {}
// SAFETY: shared access only reads the block.
unsafe impl Sync for ThinParts {}

fn len_field(n: usize) -> usize {
    if n < 255 { 1 } else { 9 }
}

impl ThinParts {
    /// A block holding `parts`, in order.
    ///
    /// # Panics
    /// If there are more than 255 parts (a programming error: callers use
    /// a fixed, small number).
    pub fn new(parts: &[&[u8]]) -> ThinParts {
        assert!(parts.len() <= 255, "ThinParts holds at most 255 parts");
        let size = 1 + parts
            .iter()
            .map(|p| len_field(p.len()) + p.len())
            .sum::<usize>();
        let layout = Layout::from_size_align(size, 1).expect("block size overflows");
        // SAFETY: size is at least 1, so the layout is not zero-sized.
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout);
        };
        // SAFETY: the block has `size` bytes, computed above from the same
        // parts written here in the same order.
        unsafe {
            let p = ptr.as_ptr();
            *p = parts.len() as u8;
            let mut at = 1;
            for part in parts {
                let n = part.len();
                if n < 255 {
                    *p.add(at) = n as u8;
                } else {
                    *p.add(at) = 255;
                    (p.add(at + 1) as *mut u64).write_unaligned(n as u64);
                }
                at += len_field(n);
                std::ptr::copy_nonoverlapping(part.as_ptr(), p.add(at), n);
                at += n;
            }
        }
        ThinParts { ptr }
    }

    /// Number of parts.
    pub fn count(&self) -> usize {
        // SAFETY: the count byte is always present.
        unsafe { *self.ptr.as_ptr() as usize }
    }

    /// (offset, length) of part `i`, and the offset just past the last
    /// part when `i == count()`.
    fn locate(&self, i: usize) -> (usize, usize) {
        let p = self.ptr.as_ptr();
        let mut at = 1;
        // SAFETY: the walk reads the length fields `new` wrote, never past
        // the `count()` parts the block holds.
        unsafe {
            for k in 0..self.count() {
                let long = *p.add(at) == 255;
                let n = if long {
                    (p.add(at + 1) as *const u64).read_unaligned() as usize
                } else {
                    *p.add(at) as usize
                };
                at += if long { 9 } else { 1 };
                if k == i {
                    return (at, n);
                }
                at += n;
            }
        }
        (at, 0)
    }

    /// Part `i`.
    ///
    /// # Panics
    /// If `i >= count()`.
    pub fn part(&self, i: usize) -> &[u8] {
        assert!(i < self.count(), "no part {i}");
        let (at, n) = self.locate(i);
        // SAFETY: at..at+n is part i inside the block, which lives as long
        // as &self.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(at), n) }
    }

    /// Part `i`, mutably, for changes that keep its length (a score
    /// updated in place).
    ///
    /// # Panics
    /// If `i >= count()`.
    pub fn part_mut(&mut self, i: usize) -> &mut [u8] {
        assert!(i < self.count(), "no part {i}");
        let (at, n) = self.locate(i);
        // SAFETY: as in `part`, and &mut self makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(at), n) }
    }

    /// Bytes of the block (what the allocator was asked for).
    pub fn block_size(&self) -> usize {
        self.locate(self.count()).0
    }
}

impl Clone for ThinParts {
    fn clone(&self) -> ThinParts {
        let parts: Vec<&[u8]> = (0..self.count()).map(|i| self.part(i)).collect();
        ThinParts::new(&parts)
    }
}

impl Drop for ThinParts {
    fn drop(&mut self) {
        let size = self.block_size();
        // SAFETY: the block was allocated in `new` with this size (computed
        // from the same parts) and alignment 1.
        unsafe {
            dealloc(
                self.ptr.as_ptr(),
                Layout::from_size_align_unchecked(size, 1),
            )
        }
    }
}

impl std::fmt::Debug for ThinParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        for i in 0..self.count() {
            l.entry(&String::from_utf8_lossy(self.part(i)));
        }
        l.finish()
    }
}

impl PartialEq for ThinParts {
    fn eq(&self, other: &ThinParts) -> bool {
        self.count() == other.count() && (0..self.count()).all(|i| self.part(i) == other.part(i))
    }
}

impl Eq for ThinParts {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_with_short_and_long_lengths() {
        let long = vec![7u8; 300];
        let t = ThinParts::new(&[b"member:1", b"", &long, &1.5f64.to_le_bytes()]);
        assert_eq!(t.count(), 4);
        assert_eq!(t.part(0), b"member:1");
        assert_eq!(t.part(1), b"");
        assert_eq!(t.part(2), &long[..]);
        assert_eq!(f64::from_le_bytes(t.part(3).try_into().unwrap()), 1.5);
        assert_eq!(t.block_size(), 1 + (1 + 8) + 1 + (9 + 300) + (1 + 8));
        let c = t.clone();
        assert_eq!(c, t);
    }

    #[test]
    fn a_part_changes_in_place() {
        let mut t = ThinParts::new(&[b"m", &0f64.to_le_bytes()]);
        t.part_mut(1).copy_from_slice(&2.5f64.to_le_bytes());
        assert_eq!(t.part(1), 2.5f64.to_le_bytes());
        assert_eq!(t.part(0), b"m");
        assert_eq!(std::mem::size_of::<Option<ThinParts>>(), 8);
    }

    #[test]
    fn no_parts_is_one_byte() {
        let t = ThinParts::new(&[]);
        assert_eq!((t.count(), t.block_size()), (0, 1));
    }
}
