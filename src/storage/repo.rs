//! The cqrs-es repositories over a connected store: sqlite-es's or postgres-es's,
//! chosen here and only here, by the variant of the [`Db`] they are built from. So a
//! repository of one backend over a pool of the other cannot be expressed, and code
//! above this folder is not generic over the backend.

use super::Db;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
    ViewContext,
};
use cqrs_es::{Aggregate, View};
use postgres_es::{PostgresEventRepository, PostgresViewRepository};
use serde_json::Value;
use sqlite_es::{SqliteEventRepository, SqliteViewRepository};

/// The event repository of the store's backend.
pub enum EventRepository {
    Sqlite(SqliteEventRepository),
    Postgres(PostgresEventRepository),
}

impl EventRepository {
    pub fn new(db: &Db) -> Self {
        match db {
            Db::Sqlite(p) => EventRepository::Sqlite(SqliteEventRepository::new(p.clone())),
            Db::Postgres(p) => EventRepository::Postgres(PostgresEventRepository::new(p.clone())),
        }
    }
}

/// Each method forwards to the backend's repository.
macro_rules! forward {
    ($self:ident, $r:ident => $call:expr) => {
        match $self {
            EventRepository::Sqlite($r) => $call.await,
            EventRepository::Postgres($r) => $call.await,
        }
    };
}

impl PersistedEventRepository for EventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        forward!(self, r => r.get_events::<A>(aggregate_id))
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        forward!(self, r => r.get_last_events::<A>(aggregate_id, last_sequence))
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        forward!(self, r => r.get_snapshot::<A>(aggregate_id))
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        forward!(self, r => r.persist::<A>(events, snapshot_update))
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        forward!(self, r => r.stream_events::<A>(aggregate_id))
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        forward!(self, r => r.stream_all_events::<A>())
    }
}

/// The view repository of the store's backend, over the table `table`.
pub enum ViewRepository<V, A> {
    Sqlite(SqliteViewRepository<V, A>),
    Postgres(PostgresViewRepository<V, A>),
}

impl<V: View<A>, A: Aggregate> ViewRepository<V, A> {
    pub fn new(db: &Db, table: &str) -> Self {
        match db {
            Db::Sqlite(p) => ViewRepository::Sqlite(SqliteViewRepository::new(table, p.clone())),
            Db::Postgres(p) => {
                ViewRepository::Postgres(PostgresViewRepository::new(table, p.clone()))
            }
        }
    }
}

impl<V: View<A>, A: Aggregate> cqrs_es::persist::ViewRepository<V, A> for ViewRepository<V, A> {
    async fn load(&self, view_id: &str) -> Result<Option<V>, PersistenceError> {
        match self {
            ViewRepository::Sqlite(r) => r.load(view_id).await,
            ViewRepository::Postgres(r) => r.load(view_id).await,
        }
    }

    async fn load_with_context(
        &self,
        view_id: &str,
    ) -> Result<Option<(V, ViewContext)>, PersistenceError> {
        match self {
            ViewRepository::Sqlite(r) => r.load_with_context(view_id).await,
            ViewRepository::Postgres(r) => r.load_with_context(view_id).await,
        }
    }

    async fn update_view(&self, view: V, context: ViewContext) -> Result<(), PersistenceError> {
        match self {
            ViewRepository::Sqlite(r) => r.update_view(view, context).await,
            ViewRepository::Postgres(r) => r.update_view(view, context).await,
        }
    }
}
