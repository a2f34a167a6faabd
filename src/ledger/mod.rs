//! The write side: the cqrs-es `Ledger` aggregate (a thin adapter over
//! `waymark_core`'s rule state) and the chained event store that gives its events
//! their place in the chain.
//!
//! - [`aggregate`]: `Ledger`, its command `Record` of `Signed` statements, its
//!   `LedgerEvent`, and `handle` judging a batch with the rules;
//! - [`prechecked`]: signatures the server's precheck verified, which its writer
//!   need not verify again;
//! - [`rule7`]: the signature index the aggregate consults (rule 7) and its
//!   rejection;
//! - [`store`]: `ChainedEventStore`, the cqrs-es `EventStore` that chains (`seq`,
//!   `prev`, `recorded_at`), keeps the Merkle nodes in each row and commits through
//!   `storage::Db::append`.

mod aggregate;
mod prechecked;
mod rule7;
mod store;

pub use aggregate::{Ledger, LedgerError, LedgerEvent, Record, Signed};
pub use prechecked::Prechecked;
pub use rule7::{replay_rejection, LedgerServices, SignatureIndex};
pub use store::{chain, envelope_hash, mark_of, system_clock, ChainedEventStore, Clock, Ctx};
