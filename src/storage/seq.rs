//! `Seq`: a position in a ledger's chain (SPEC section 4, 1-based; 0 before the first
//! event). The domain counts it in `u64` (`waymark_events::Event::seq`), cqrs-es in
//! `usize` (`EventEnvelope::sequence`, the aggregate context), SQL in `i64`
//! (`bigint` / `integer` columns). This type is where they meet: one conversion each
//! way for cqrs-es and for SQL, here and nowhere else.

/// A seq, or a count of events (the seq of the last one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(pub u64);

impl Seq {
    pub const ZERO: Seq = Seq(0);

    pub fn get(self) -> u64 {
        self.0
    }

    /// The seq after this one.
    pub fn next(self) -> Seq {
        Seq(self.0.saturating_add(1))
    }

    /// From cqrs-es's `usize` sequences (lossless where `usize` is 64 bits).
    pub fn from_cqrs(n: usize) -> Seq {
        Seq(u64::try_from(n).unwrap_or(u64::MAX))
    }

    /// To cqrs-es's `usize` sequences.
    pub fn to_cqrs(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }

    /// From a SQL column (the schema keeps seqs non-negative: `CHECK (… >= 0)`).
    pub fn from_sql(n: i64) -> Seq {
        Seq(u64::try_from(n).unwrap_or(0))
    }

    /// To a SQL parameter (seqs past `i64::MAX` cannot be stored; they clamp).
    pub fn to_sql(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl From<u64> for Seq {
    fn from(n: u64) -> Seq {
        Seq(n)
    }
}

impl From<Seq> for u64 {
    fn from(s: Seq) -> u64 {
        s.0
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Seq;

    #[test]
    fn seqs_round_trip_through_cqrs_and_sql() {
        for n in [0u64, 1, 1 << 40, i64::MAX as u64] {
            let s = Seq(n);
            assert_eq!(Seq::from_cqrs(s.to_cqrs()), s);
            assert_eq!(Seq::from_sql(s.to_sql()), s);
        }
    }

    #[test]
    fn out_of_range_values_clamp_instead_of_wrapping() {
        assert_eq!(Seq::from_sql(-1), Seq::ZERO);
        assert_eq!(Seq(u64::MAX).to_sql(), i64::MAX);
        assert_eq!(Seq(u64::MAX).next(), Seq(u64::MAX));
    }
}
