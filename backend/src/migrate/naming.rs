//! Naming rules for new migrations: a snake_case name that says what changes.

/// Names that say nothing about the change.
const VAGUE: &[&str] = &[
    "untitled",
    "fix",
    "fix_bug",
    "fix_bugs",
    "bugfix",
    "update",
    "updates",
    "change",
    "changes",
    "migration",
    "new_migration",
    "temp",
    "tmp",
    "test",
    "wip",
    "misc",
    "stuff",
    "todo",
    "schema",
    "update_schema",
    "db_changes",
    "fix_db",
    "fix_schema",
];

/// Turns a description into a migration name, or says why it is refused.
pub fn migration_name(description: &str) -> Result<String, String> {
    let mut name = String::new();
    for c in description.trim().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('_') && !name.is_empty() {
            name.push('_');
        }
    }
    let name = name.trim_end_matches('_').to_owned();
    if name.is_empty() {
        return Err("the description is empty: describe the change, e.g. `add fee currency to user_operations`".into());
    }
    if VAGUE.contains(&name.as_str()) || name.split('_').count() < 2 {
        return Err(format!(
            "`{name}` does not say what the migration changes: name the change, e.g. `add_fee_currency_to_user_operations`"
        ));
    }
    if name.len() > 80 {
        return Err(format!("`{name}` is longer than 80 characters: shorten it"));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "`{name}` starts with a digit: start with a verb such as add_, drop_, rename_"
        ));
    }
    Ok(name)
}

/// Whether an existing folder follows `YYYY-MM-DD-HHMMSS_snake_name`.
pub fn folder_problem(folder: &str) -> Option<String> {
    let Some((version, name)) = folder.split_once('_') else {
        return Some(format!("{folder}: expected YYYY-MM-DD-HHMMSS_name"));
    };
    let shape_ok = version.len() == 17
        && version.char_indices().all(|(i, c)| {
            if [4, 7, 10].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape_ok {
        return Some(format!(
            "{folder}: the version must look like 2025-01-31-235959"
        ));
    }
    if let Err(reason) = migration_name(name) {
        return Some(format!("{folder}: {reason}"));
    }
    if migration_name(name).ok().as_deref() != Some(name) {
        return Some(format!("{folder}: the name must be snake_case"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            migration_name("Add fee currency to user_operations").unwrap(),
            "add_fee_currency_to_user_operations"
        );
        for bad in ["", "   ", "fix_bug", "Fix bug", "untitled", "update", "x"] {
            assert!(migration_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(folder_problem("2024-03-01-090000_create_core_tables").is_none());
        assert!(folder_problem("2024-03-01_create_core_tables").is_some());
        assert!(folder_problem("2024-03-01-090000_CreateCore").is_some());
        assert!(folder_problem("2024-03-01-090000_fix_bug").is_some());
    }
}
