//! Local files: the key store, and writes that never follow a link out of their
//! directory (`safe`).

mod keys;
pub(crate) mod safe;

pub use keys::KeyStore;
