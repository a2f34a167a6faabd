//! A parallel map over a slice that keeps the order, on scoped threads (one per
//! core). The work here is flat and coarse (hashing and parsing pages of events,
//! checking signatures), so a thread-pool crate would add a dependency for nothing.

/// `items.iter().enumerate().map(f)`, split across the cores when each would get at
/// least `min_per_thread` items. A worker that panics has its share redone on the
/// calling thread, so the result is always complete and in order.
pub fn map_ordered<T: Sync, U: Send>(
    items: &[T],
    min_per_thread: usize,
    f: impl Fn(usize, &T) -> U + Sync,
) -> Vec<U> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(items.len() / min_per_thread.max(1));
    if threads < 2 {
        return items.iter().enumerate().map(|(i, t)| f(i, t)).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(per)
            .enumerate()
            .map(|(k, part)| {
                scope.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(i, t)| f(k * per + i, t))
                        .collect::<Vec<U>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for (k, part) in parts.into_iter().enumerate() {
            match part.join() {
                Ok(p) => out.extend(p),
                Err(_) => {
                    let start = k * per;
                    let end = (start + per).min(items.len());
                    out.extend((start..end).map(|i| f(i, &items[i])));
                }
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::map_ordered;

    #[test]
    fn keeps_order_and_indices_whatever_the_split() {
        for n in [0usize, 1, 5, 63, 64, 1000, 1001] {
            let items: Vec<usize> = (0..n).map(|i| i * 3).collect();
            for min in [1, 7, 64, 10_000] {
                let out = map_ordered(&items, min, |i, x| (i, x + 1));
                let want: Vec<(usize, usize)> = (0..n).map(|i| (i, i * 3 + 1)).collect();
                assert_eq!(out, want, "n {n} min {min}");
            }
        }
    }
}
