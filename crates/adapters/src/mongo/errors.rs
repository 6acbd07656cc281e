//! Driver errors as the ports report them. Messages name what failed but never echo a server's
//! free text about a write (it may quote document values, such as an API key under someone
//! else's unique index) nor the connection string (it may hold credentials).

use mongodb::error::{Error, ErrorKind, WriteFailure};

use super::config::redact_uri;
use crate::ports::StoreError;

/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;
/// MongoDB's code for a command the server does not know.
const COMMAND_NOT_FOUND: i32 = 59;

/// Anything the driver reports is, to the service, the store being unavailable: the request
/// fails with 503 and is retried; the classification is only for the log.
pub(crate) fn unavailable(error: &Error) -> StoreError {
    StoreError::Unavailable(describe(error))
}

pub(crate) fn timed_out(operation_timeout: std::time::Duration) -> StoreError {
    StoreError::Unavailable(format!("MongoDB did not answer within {operation_timeout:?}"))
}

pub(crate) fn is_duplicate_key(error: &Error) -> bool {
    code(error) == Some(DUPLICATE_KEY)
}

pub(crate) fn is_command_not_found(error: &Error) -> bool {
    code(error) == Some(COMMAND_NOT_FOUND)
}

pub(crate) fn invalid_uri(uri: &str, error: &Error) -> StoreError {
    // The driver's message may quote the string it could not parse; never let credentials out.
    let redacted = redact_uri(uri);
    let reason = match &*error.kind {
        ErrorKind::InvalidArgument { message, .. } if !message.contains(uri) && !contains_user_info(message, uri) => {
            message.clone()
        }
        _ => "it cannot be parsed".to_owned(),
    };
    StoreError::InvalidConfiguration(format!("invalid MongoDB connection string {redacted}: {reason}"))
}

/// Whether `message` quotes the user information (user name and password) of `uri`.
fn contains_user_info(message: &str, uri: &str) -> bool {
    let authority = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let authority = authority.split(['/', '?']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .is_some_and(|(user_info, _)| user_info.split(':').any(|part| !part.is_empty() && message.contains(part)))
}

fn code(error: &Error) -> Option<i32> {
    match &*error.kind {
        ErrorKind::Write(WriteFailure::WriteError(write)) => Some(write.code),
        ErrorKind::Command(command) => Some(command.code),
        ErrorKind::InsertMany(insert) => insert.write_errors.as_ref()?.first().map(|write| write.code),
        _ => None,
    }
}

fn describe(error: &Error) -> String {
    match &*error.kind {
        ErrorKind::ServerSelection { .. } => "no MongoDB server answered in time (server selection)".to_owned(),
        ErrorKind::Io(io) => format!("network error talking to MongoDB: {io}"),
        ErrorKind::ConnectionPoolCleared { .. } => "the connection to MongoDB was lost".to_owned(),
        ErrorKind::Authentication { .. } => "MongoDB refused the credentials".to_owned(),
        ErrorKind::DnsResolve { .. } => "the MongoDB host name did not resolve".to_owned(),
        ErrorKind::Command(command) => format!("MongoDB command failed: {} ({})", command.code, command.code_name),
        ErrorKind::Write(WriteFailure::WriteError(write)) => {
            format!("MongoDB write failed: {} ({})", write.code, write.code_name.as_deref().unwrap_or("unnamed"))
        }
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => {
            format!("MongoDB write concern failed: {} ({})", concern.code, concern.code_name)
        }
        ErrorKind::InsertMany(_) => match code(error) {
            Some(code) => format!("MongoDB insert failed: {code}"),
            None => "MongoDB insert failed".to_owned(),
        },
        _ => format!("MongoDB operation failed{}", labels(error)),
    }
}

fn labels(error: &Error) -> String {
    let mut labels: Vec<_> = error.labels().iter().map(String::as_str).collect();
    if labels.is_empty() {
        return String::new();
    }
    labels.sort_unstable();
    format!(" (labels: {})", labels.join(", "))
}
