//! Memory accounting: a global allocator that counts the bytes the process
//! holds, so INFO's `used_memory` is a real figure (Redis gets it from its
//! `zmalloc` wrapper).
//!
//! [`CountingAllocator`] wraps [`std::alloc::System`] and adds or subtracts
//! each allocation's size. A single shared counter would be one cache line
//! that every thread writes on every allocation; instead each thread adds to
//! one of [`STRIPES`] counters, each on its own cache line, chosen once per
//! thread. Reading the total sums them. A thread may free memory another
//! thread allocated, so one stripe can go negative; the sum is still exact.
//!
//! The library never installs the allocator itself: a library must not
//! choose the allocator of the program that embeds it. `sedis-server`
//! installs it in `main.rs`; an embedding program that wants exact figures
//! does the same:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: sedis::alloc::CountingAllocator = sedis::alloc::CountingAllocator;
//! ```
//!
//! Without it, [`allocated`] returns `None` and INFO falls back to the
//! resident set size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// Number of counters. Threads beyond this share stripes, which costs only
/// some contention, never accuracy.
pub const STRIPES: usize = 32;

/// One counter alone on its cache line. 128 bytes, not 64: x86 fetches
/// lines in adjacent pairs, so 64 would still let neighbours interfere.
#[repr(align(128))]
struct Stripe(AtomicIsize);

static COUNTERS: [Stripe; STRIPES] = [const { Stripe(AtomicIsize::new(0)) }; STRIPES];

/// Hands each new thread the next stripe, round robin.
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's stripe; `usize::MAX` until its first allocation.
    /// A `const` initialiser and a type without `Drop` mean the slot needs
    /// no allocation and no destructor, so the allocator can use it.
    static MY_STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn counter() -> &'static AtomicIsize {
    let index = MY_STRIPE
        .try_with(|slot| {
            let mut index = slot.get();
            if index == usize::MAX {
                index = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
                slot.set(index);
            }
            index
        })
        .unwrap_or(0);
    &COUNTERS[index].0
}

/// The system allocator, counting.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged and only updates a counter besides, so `System`'s guarantees
// carry over.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            counter().fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            counter().fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) };
        counter().fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            let delta = new_size as isize - layout.size() as isize;
            counter().fetch_add(delta, Ordering::Relaxed);
        }
        new
    }
}

/// Bytes currently allocated through [`CountingAllocator`], or `None` if it
/// is not the global allocator (nothing has been counted).
pub fn allocated() -> Option<usize> {
    let total: isize = COUNTERS.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
    (total > 0).then_some(total as usize)
}

/// The process's resident set size in bytes, from `/proc/self/statm`
/// (0 where that file does not exist).
pub fn resident_set_size() -> usize {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

/// Physical memory of the machine in bytes (INFO's `total_system_memory`).
pub fn total_system_memory() -> usize {
    // SAFETY: sysconf only reads system parameters.
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    if pages <= 0 {
        return 0;
    }
    pages as usize * page_size()
}

fn page_size() -> usize {
    // SAFETY: sysconf only reads system parameters.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}

/// What INFO reports as `used_memory`: the counted bytes when the counting
/// allocator is installed, else the resident set size (the best honest
/// figure available).
pub fn used_memory() -> usize {
    allocated().unwrap_or_else(resident_set_size)
}

/// Bytes in Redis's human form: `1023B`, `1.00K`, `2.50M`, `1.00G`...
/// (Redis's `bytesToHuman`).
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (1 << 50, "P"),
        (1 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "K"),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    if n >= 1 << 60 {
        return format!("{n}B");
    }
    for (size, unit) in UNITS {
        if n >= size {
            return format!("{:.2}{unit}", n as f64 / size as f64);
        }
    }
    format!("{n}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_match_redis() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(940936), "918.88K");
        assert_eq!(bytes_to_human(7106560), "6.78M");
        assert_eq!(bytes_to_human(25276510208), "23.54G");
    }

    #[test]
    fn system_figures_are_available_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_set_size() > 0);
            assert!(total_system_memory() > resident_set_size());
        }
    }

    #[test]
    fn counting_follows_allocations() {
        // The unit-test binary does not install the allocator; drive it
        // directly.
        let a = CountingAllocator;
        let layout = Layout::from_size_align(1 << 20, 8).unwrap();
        let before = allocated().unwrap_or(0);
        // SAFETY: the layout is valid and non-zero; the pointer is freed
        // below with the layout it was grown to.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert!(allocated().unwrap_or(0) >= before + (1 << 20));
            let p = a.realloc(p, layout, 2 << 20);
            assert!(!p.is_null());
            assert!(allocated().unwrap_or(0) >= before + (2 << 20));
            a.dealloc(p, Layout::from_size_align(2 << 20, 8).unwrap());
        }
        assert!(allocated().unwrap_or(0) < before + (1 << 20));
    }
}
