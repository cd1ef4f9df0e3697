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

/// An error diesel itself would make of an existing folder: it takes the version as the text
/// before the first `_` with dashes removed, so that text must be there and be digits.
pub fn folder_problem(folder: &str) -> Option<String> {
    let Some((version, _)) = folder.split_once('_') else {
        return Some(format!(
            "{folder}: diesel needs VERSION_name (no `_` in the folder name)"
        ));
    };
    let digits: String = version.chars().filter(|c| *c != '-').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(format!(
            "{folder}: the version `{version}` is not digits and dashes, so it does not order as a date"
        ));
    }
    None
}

/// Style advice for a folder diesel accepts: a version in none of diesel's own formats
/// (`YYYY-MM-DD-HHMMSS`, diesel 2.2's `YYYY-MM-DD-HHMMSS-0000`, 14 digits such as the
/// `00000000000000_diesel_initial_setup` it generates), or a name that says little.
pub fn folder_advice(folder: &str) -> Option<String> {
    let (version, name) = folder.split_once('_')?;
    let shape = |pattern: &str| {
        version.len() == pattern.len()
            && version.chars().zip(pattern.chars()).all(|(c, p)| {
                if p == '-' {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    let known = [
        "dddd-dd-dd-dddddd",
        "dddd-dd-dd-dddddd-dddd",
        "dddddddddddddd",
    ];
    if !known.iter().any(|p| shape(p)) {
        return Some(format!(
            "{folder}: the version is in none of diesel's formats (e.g. 2025-01-31-235959)"
        ));
    }
    if name == "diesel_initial_setup" {
        return None;
    }
    match migration_name(name) {
        Err(reason) => Some(format!("{folder}: {reason}")),
        Ok(snake) if snake != name => Some(format!("{folder}: the name is not snake_case")),
        Ok(_) => None,
    }
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
        for ok in [
            "2024-03-01-090000_create_core_tables",
            "2024-03-01-090000-0000_create_core_tables",
            "20240301090000_create_core_tables",
            "00000000000000_diesel_initial_setup",
        ] {
            assert!(folder_problem(ok).is_none(), "{ok}");
            assert!(folder_advice(ok).is_none(), "{ok}");
        }
        // diesel accepts these: advice, not errors.
        for styled in [
            "2024-03-01_create_core_tables",
            "2024-03-01-090000_CreateCore",
            "2024-03-01-090000_fix_bug",
            "2024-03-01-090000_users",
            "2024-03-01-090000_create-users",
        ] {
            assert!(folder_problem(styled).is_none(), "{styled}");
            assert!(folder_advice(styled).is_some(), "{styled}");
        }
        for broken in ["2024-03-01-090000", "v1.2_create_users", "_create_users"] {
            assert!(folder_problem(broken).is_some(), "{broken}");
        }
    }
}
