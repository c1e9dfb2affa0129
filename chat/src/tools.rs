//! The operator's one-shot commands: rebuild and verify the read tables, inspect and retry
//! dead letters, grant and take away roles.

use std::time::Duration;

use anyhow::{bail, Context};
use commands::{CommandError, RoleChange};
use domain::UserError;
use indicatif::{ProgressBar, ProgressStyle};
use projector::Progress;
use sqlx::PgPool;

use crate::inert::inert;
use crate::{DlqCommand, RoleCommand, Settings};

pub(crate) async fn rebuild(pool: &PgPool) -> anyhow::Result<()> {
    let bar = progress_bar("rebuilding");
    let report = projector::rebuild(pool, |progress| show(&bar, progress))
        .await
        .context("rebuilding the read tables")?;
    bar.finish_and_clear();
    println!(
        "rebuilt the read tables from {} events in {:.1} s ({:.0} events/s) and swapped them in",
        report.events,
        report.elapsed.as_secs_f64(),
        report.events as f64 / report.elapsed.as_secs_f64().max(1e-9),
    );
    Ok(())
}

pub(crate) async fn verify(pool: &PgPool) -> anyhow::Result<()> {
    let bar = progress_bar("verifying");
    let report = projector::verify(pool, |progress| show(&bar, progress))
        .await
        .context("verifying the read tables")?;
    bar.finish_and_clear();
    println!("{:<24} {:>10} {:>10}  result", "table", "live", "rebuilt");
    for table in &report.tables {
        let verdict = if table.matches() {
            "same"
        } else if table.live_rows == table.copy_rows {
            "DIFFERENT CONTENT"
        } else {
            "DIFFERENT ROW COUNT"
        };
        println!(
            "{:<24} {:>10} {:>10}  {verdict}",
            table.table_name, table.live_rows, table.copy_rows
        );
    }
    for difference in &report.differences {
        println!(
            "  {} {}: {}",
            difference.table_name,
            difference.side,
            inert(&difference.row_text)
        );
    }
    if !report.is_clean() {
        bail!(
            "the read tables differ from a rebuild of {} events",
            report.events
        );
    }
    println!(
        "the read tables match a rebuild of {} events",
        report.events
    );
    Ok(())
}

pub(crate) async fn dead_letters(settings: &Settings, command: DlqCommand) -> anyhow::Result<()> {
    let bus = settings.bus()?;
    match command {
        DlqCommand::List { limit } => {
            let page = bus::dead_letters(&bus, limit)
                .await
                .context("reading the dead-letter queue")?;
            for letter in &page.letters {
                match &letter.envelope {
                    Some(event) => println!(
                        "position {} {} {} #{} {}: {}",
                        event.position,
                        inert(&event.aggregate_type),
                        inert(&event.aggregate_id),
                        event.sequence,
                        inert(&event.event_type),
                        inert(&letter.reason)
                    ),
                    None => println!("{}: {}", inert(&letter.routing_key), inert(&letter.reason)),
                }
            }
            let shown = page.letters.len();
            println!("{} dead-lettered events", page.waiting);
            if (shown as u64) < u64::from(page.waiting) {
                println!(
                    "showing the oldest {shown}; {} more (--limit shows more)",
                    u64::from(page.waiting) - shown as u64
                );
            }
        }
        DlqCommand::Retry => {
            let moved = bus::retry_dead_letters(&bus)
                .await
                .context("retrying dead letters")?;
            println!("sent {moved} dead-lettered events back to the projector");
        }
    }
    Ok(())
}

pub(crate) async fn change_role(pool: &PgPool, command: RoleCommand) -> anyhow::Result<()> {
    let (role, username, grant) = match &command {
        RoleCommand::Grant { role, username } => (*role, username, true),
        RoleCommand::Revoke { role, username } => (*role, username, false),
    };
    let role_name = role.as_str();
    let changed = commands::change_role(pool.clone(), username, role, grant)
        .await
        .map_err(|error| match error {
            CommandError::User(UserError::NotRegistered) => {
                anyhow::anyhow!("no user is registered as {:?}", inert(username))
            }
            other => anyhow::Error::new(other).context("changing the role"),
        })?;
    let username = inert(username);
    match changed {
        RoleChange::Granted => println!("{username} is now {role_name}"),
        RoleChange::Revoked => println!("{username} is no longer {role_name}"),
        RoleChange::Unchanged if grant => println!("{username} was {role_name} already"),
        RoleChange::Unchanged => println!("{username} was not {role_name}"),
    }
    Ok(())
}

fn progress_bar(what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(0).with_message(what);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {human_pos}/{human_len} events, {per_sec}, ETA {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn show(bar: &ProgressBar, progress: Progress) {
    bar.set_length(progress.total);
    bar.set_position(progress.read);
}
