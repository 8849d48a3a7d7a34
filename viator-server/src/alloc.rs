//! A counting wrapper for the global allocator, so that INFO memory can
//! report `used_memory` (the bytes the server holds) the way Redis's
//! `zmalloc_used_memory()` does.
//!
//! Every allocation adds its size to a counter and every free subtracts
//! it. A single shared counter would be a contended cache line on the
//! benchmark hot path, so the count is split into [`SLOTS`] cache-padded
//! counters; each thread takes one slot the first time it allocates and
//! keeps it. A block freed on another thread than the one that allocated
//! it moves its size between two slots, which is why slots are signed and
//! only their sum means anything.
//!
//! The binary installs it around mimalloc:
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: viator_server::alloc::Counting<mimalloc::MiMalloc> =
//!     viator_server::alloc::Counting::new(mimalloc::MiMalloc);
//! ```
//!
//! When it is not installed (tests, programs embedding the server with
//! their own allocator), [`allocated`] returns `None` and INFO falls back
//! on the resident set size.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// Number of counters the count is split into.
pub const SLOTS: usize = 64;

/// One counter on its own cache line (two lines: adjacent-line prefetch).
#[repr(align(128))]
struct Slot(AtomicIsize);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Slot = Slot(AtomicIsize::new(0));
static COUNTS: [Slot; SLOTS] = [ZERO; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // A const-initialized `Cell<usize>` has no destructor, so reading it
    // never allocates nor registers anything: safe inside an allocator.
    static MY_SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn slot() -> &'static AtomicIsize {
    let i = MY_SLOT
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                i = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
                s.set(i);
            }
            i
        })
        // During thread teardown the slot may be gone: any counter does.
        .unwrap_or(0);
    &COUNTS[i].0
}

#[inline]
fn add(n: usize) {
    slot().fetch_add(n as isize, Ordering::Relaxed);
}

#[inline]
fn sub(n: usize) {
    slot().fetch_sub(n as isize, Ordering::Relaxed);
}

/// Wraps an allocator and counts the bytes it hands out.
#[derive(Debug, Default)]
pub struct Counting<A>(A);

impl<A> Counting<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Counting<A> {
        Counting(inner)
    }
}

// SAFETY: every method forwards to the inner allocator with the caller's
// arguments unchanged and returns its result; the counting touches only
// atomics and a destructor-free thread local, and never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { self.0.dealloc(ptr, layout) };
        sub(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                add(new_size - layout.size());
            } else {
                sub(layout.size() - new_size);
            }
        }
        p
    }
}

/// Bytes currently allocated through [`Counting`], or `None` when it is
/// not the global allocator of this process (nothing was ever counted).
pub fn allocated() -> Option<usize> {
    let sum: isize = COUNTS.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
    if sum == 0 {
        None
    } else {
        Some(sum.max(0) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_allocations_and_frees() {
        let a = Counting::new(std::alloc::System);
        let layout = Layout::from_size_align(1000, 8).unwrap_or(Layout::new::<u8>());
        let before: isize = COUNTS.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
        // SAFETY: a non-zero-sized layout; the block is freed with the
        // layout it was reallocated to.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            let mid: isize = COUNTS.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
            assert_eq!(mid - before, 1000);
            let q = a.realloc(p, layout, 3000);
            assert!(!q.is_null());
            let grown: isize = COUNTS.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
            assert_eq!(grown - before, 3000);
            a.dealloc(q, Layout::from_size_align(3000, 8).unwrap_or(layout));
        }
        let after: isize = COUNTS.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
        assert_eq!(after, before);
    }
}
