//! SQLite's own checks of the database file: page-level integrity and foreign keys. (Whether the master
//! key opens every stored secret is asked in `stripe`.)

use rusqlite::Connection;
use serde::Serialize;

use crate::error::Result;

/// `PRAGMA integrity_check`: `["ok"]` when the file is sound, else SQLite's findings (at most 100). A
/// check that cannot run at all (a page too damaged to read) answers that as its finding.
pub fn integrity(conn: &Connection) -> Vec<String> {
    let run = || -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect()
    };
    run().unwrap_or_else(|e| vec![format!("the integrity check could not run: {e}")])
}

/// Whether `integrity`'s answer says the file is sound.
pub fn is_sound(findings: &[String]) -> bool {
    findings == ["ok"]
}

/// A row whose foreign key names a parent row that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKeyViolation {
    pub table: String,
    /// `None` in a WITHOUT ROWID table.
    pub rowid: Option<i64>,
    /// The column(s) holding the reference, comma-separated.
    pub column: String,
    pub parent: String,
}

/// `PRAGMA foreign_key_check` over every table, with the column of each broken reference.
pub fn foreign_keys(conn: &Connection) -> Result<Vec<ForeignKeyViolation>> {
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let found = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut columns =
        conn.prepare("SELECT group_concat(\"from\", ', ') FROM pragma_foreign_key_list(?1) WHERE id = ?2")?;
    let mut out = Vec::with_capacity(found.len());
    for (table, rowid, parent, fkid) in found {
        let column: Option<String> = columns.query_row(rusqlite::params![table, fkid], |r| r.get(0))?;
        out.push(ForeignKeyViolation { table, rowid, column: column.unwrap_or_default(), parent });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sound_file_and_a_broken_reference() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF; -- as a damaged or hand-edited file would have it
             CREATE TABLE parent (id TEXT PRIMARY KEY);
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id TEXT REFERENCES parent(id));
             INSERT INTO parent VALUES ('a');
             INSERT INTO child (id, parent_id) VALUES (1, 'a'), (2, 'gone');",
        )
        .unwrap();
        let findings = integrity(&conn);
        assert!(is_sound(&findings), "{findings:?}");
        let broken = foreign_keys(&conn).unwrap();
        let expected = ForeignKeyViolation {
            table: "child".into(),
            rowid: Some(2),
            column: "parent_id".into(),
            parent: "parent".into(),
        };
        assert_eq!(broken, [expected]);
    }
}
