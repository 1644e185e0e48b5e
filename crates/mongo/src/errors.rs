//! Reading the driver's errors the way an insert-only design needs: "someone inserted this key
//! first" is an answer, not a failure. One definition for every service and the outbox.

use mongodb::error::{Error, ErrorKind, WriteFailure};

/// The server's code for a unique index refusing a document (MongoDB and FerretDB alike).
pub const DUPLICATE_KEY: i32 = 11000;

/// Whether `error` is a duplicate key rejection: of a single write, or of every failed document of
/// an `insert_many` (with no write concern error), that is, "someone else got there first".
pub fn is_duplicate_key(error: &Error) -> bool {
    match &*error.kind {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(insert) => {
            insert.write_concern_error.is_none()
                && insert
                    .write_errors
                    .as_ref()
                    .is_some_and(|errors| errors.iter().all(|e| e.code == DUPLICATE_KEY))
        }
        _ => false,
    }
}
