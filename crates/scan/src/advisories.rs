//! The advisory database as a scan uses it: opened when present, its age checked.
//! Building and refreshing it is `bulwark_vulndb::{update, import_paths}`.

use bulwark_vulndb::{OffsetDateTime, Store, DB_FILE};

use crate::events::{Event, EventSink, NoticeLevel};
use crate::request::AdvisorySettings;
use crate::{Error, Result};

/// The advisory store in `settings.db_dir`. Missing and `required`: an error that says what
/// to run. Missing otherwise: `None` and a note, so an offline first scan still works. Older
/// than the age policy allows: an error; older than its warning age: a warning event.
pub fn open_advisories(
    settings: &AdvisorySettings,
    required: bool,
    sink: &dyn EventSink,
) -> Result<Option<Store>> {
    let dir = &settings.db_dir;
    if !dir.join(DB_FILE).exists() {
        if required {
            return Err(Error::NoAdvisoryDb(dir.clone()));
        }
        sink.event(Event::Notice {
            level: NoticeLevel::Note,
            message: &format!(
                "no vulnerability database in {}; run `bulwark db update` or `bulwark db import` to also report vulnerabilities",
                dir.display()
            ),
        });
        return Ok(None);
    }
    let store = Store::open(dir)?;
    let age =
        bulwark_vulndb::check_age(&store.metadata()?, OffsetDateTime::now_utc(), &settings.age)?;
    if let Some(warning) = age {
        sink.event(Event::Notice {
            level: NoticeLevel::Warning,
            message: &warning.message,
        });
    }
    Ok(Some(store))
}
