//! Registry credentials of queued scan jobs, held in memory only (never in the database), so
//! the application state can own them without depending on the job workers.

use std::collections::HashMap;
use std::sync::Mutex;

use bulwark_image::registry::Credentials;

/// Credentials of queued scans, by job id: memory only (see [`crate::jobs::ScanRequest::password`]).
#[derive(Debug, Default)]
pub struct JobSecrets(Mutex<HashMap<i64, Credentials>>);

impl JobSecrets {
    pub(crate) fn put(&self, id: i64, c: Credentials) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(id, c);
        }
    }
    pub(crate) fn take(&self, id: i64) -> Option<Credentials> {
        self.0.lock().ok().and_then(|mut map| map.remove(&id))
    }
}
