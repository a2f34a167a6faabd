//! An ordered parallel map over a slice, on rayon's pool (the one pool for CPU work:
//! the aggregate checks a batch's signatures on it too, so the two never compete
//! with threads of their own).

use rayon::prelude::*;

/// `items.iter().enumerate().map(f)`, split across the pool when each piece would get
/// at least `min_per_thread` items; the result keeps the order. Below two such pieces
/// it runs on the calling thread, which spares a hand-over to the pool for the work of
/// a few microseconds.
///
/// The caller waits for the result (rayon's pool threads do the work; a caller on the
/// pool helps). A panic in `f` reaches the caller, as it would from a plain loop.
pub fn map_ordered<T: Sync, U: Send>(
    items: &[T],
    min_per_thread: usize,
    f: impl Fn(usize, &T) -> U + Sync,
) -> Vec<U> {
    let min = min_per_thread.max(1);
    if items.len() < 2 * min || rayon::current_num_threads() < 2 {
        return items.iter().enumerate().map(|(i, t)| f(i, t)).collect();
    }
    items
        .par_iter()
        .enumerate()
        .with_min_len(min)
        .map(|(i, t)| f(i, t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::map_ordered;

    #[test]
    fn keeps_order_and_indices_whatever_the_split() {
        for n in [0usize, 1, 5, 63, 64, 1000, 1001] {
            let items: Vec<usize> = (0..n).map(|i| i * 3).collect();
            for min in [0, 1, 7, 64, 10_000] {
                let out = map_ordered(&items, min, |i, x| (i, x + 1));
                let want: Vec<(usize, usize)> = (0..n).map(|i| (i, i * 3 + 1)).collect();
                assert_eq!(out, want, "n {n} min {min}");
            }
        }
    }

    #[test]
    fn large_inputs_are_shared_across_the_pool() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let items: Vec<u64> = (0..4096).collect();
        let threads = pool.install(|| {
            let ids = map_ordered(&items, 16, |_, _| {
                // Long enough that one thread cannot take every piece.
                std::thread::sleep(std::time::Duration::from_micros(50));
                std::thread::current().id()
            });
            ids.into_iter().collect::<std::collections::HashSet<_>>()
        });
        assert_eq!(threads.len(), 2, "both pool threads took a share");
    }
}
