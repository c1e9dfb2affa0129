//! Delivering the queue: each webhook's deliveries in room order, one attempt at a time, by
//! whichever worker holds the webhook's lease. A failure is tried again after a growing pause;
//! past the give-up age the delivery is dead-lettered and the next one goes.
//!
//! The lease (`webhook_endpoints.lease_owner`, `lease_until`) outlasts an attempt's timeout, so
//! two workers, in one process or two, never deliver to one webhook at once; a worker that dies
//! holding one loses it when it runs out.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::send::{Outcome, Request, Sender};
use crate::DeliverySettings;

/// Takes the webhook whose next delivery has been due longest, if no one holds it.
const CLAIM: &str = "
UPDATE webhook_endpoints e SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
 WHERE e.webhook_id = (
     SELECT w.webhook_id FROM webhook_endpoints w
       JOIN LATERAL (SELECT d.next_attempt_at FROM webhook_deliveries d
                      WHERE d.webhook_id = w.webhook_id AND d.state = 'pending'
                      ORDER BY d.room_seq LIMIT 1) head ON true
      WHERE (w.lease_until IS NULL OR w.lease_until < now()) AND head.next_attempt_at <= now()
      ORDER BY head.next_attempt_at
      LIMIT 1
        FOR UPDATE OF w SKIP LOCKED)
RETURNING e.webhook_id, e.url";

const RENEW: &str = "
UPDATE webhook_endpoints SET lease_until = now() + make_interval(secs => $3)
 WHERE webhook_id = $1 AND lease_owner = $2";

const RELEASE: &str = "
UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL
 WHERE webhook_id = $1 AND lease_owner = $2";

const HEAD: &str = "
SELECT delivery_id, body, attempts, created_at, next_attempt_at <= now()
  FROM webhook_deliveries
 WHERE webhook_id = $1 AND state = 'pending'
 ORDER BY room_seq
 LIMIT 1";

const SECRET: &str = "SELECT secret FROM webhook_secrets WHERE webhook_id = $1";

const RECORD_ATTEMPT: &str = "
INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, error, duration_ms)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";

const SETTLE: &str = "
UPDATE webhook_deliveries
   SET attempts = $2, state = $3, next_attempt_at = $4,
       finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
 WHERE delivery_id = $1 AND state = 'pending'";

/// Deliveries to one webhook before its lease is given back, so others get their turn.
const TURN: usize = 100;

/// Claims webhooks and delivers to them until `shutdown`; woken early by `wake`.
pub(crate) async fn run(
    pool: PgPool,
    sender: Sender,
    settings: DeliverySettings,
    wake: std::sync::Arc<tokio::sync::Notify>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let worker = Uuid::new_v4();
    loop {
        let claimed = match claim(&pool, worker, &settings).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(cause = %api_kit::Chain(&error), "cannot claim a webhook; retrying");
                None
            }
        };
        match claimed {
            Some((webhook_id, url)) => {
                let delivered = deliver(&pool, &sender, &settings, worker, webhook_id, &url).await;
                if let Err(error) = delivered {
                    tracing::warn!(%webhook_id, cause = %api_kit::Chain(&error), "delivering failed");
                }
                let _ = sqlx::query(RELEASE)
                    .bind(webhook_id)
                    .bind(worker)
                    .execute(&pool)
                    .await;
                if shutdown.is_cancelled() {
                    return;
                }
            }
            None => {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = wake.notified() => {}
                    () = tokio::time::sleep(settings.poll_interval) => {}
                }
            }
        }
    }
}

async fn claim(
    pool: &PgPool,
    worker: Uuid,
    settings: &DeliverySettings,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(CLAIM)
        .bind(worker)
        .bind(settings.lease().as_secs_f64())
        .fetch_optional(pool)
        .await
}

/// Delivers the webhook's due deliveries in order, while its lease holds.
async fn deliver(
    pool: &PgPool,
    sender: &Sender,
    settings: &DeliverySettings,
    worker: Uuid,
    webhook_id: Uuid,
    url: &str,
) -> Result<(), sqlx::Error> {
    for _ in 0..TURN {
        let renewed = sqlx::query(RENEW)
            .bind(webhook_id)
            .bind(worker)
            .bind(settings.lease().as_secs_f64())
            .execute(pool)
            .await?;
        if renewed.rows_affected() == 0 {
            return Ok(());
        }
        let head: Option<(Uuid, String, i32, DateTime<Utc>, bool)> = sqlx::query_as(HEAD)
            .bind(webhook_id)
            .fetch_optional(pool)
            .await?;
        let Some((delivery_id, body, attempts, created_at, due)) = head else {
            return Ok(());
        };
        if !due {
            return Ok(());
        }
        // Deleted meanwhile: the worker's copy goes when it follows the deletion.
        let Some(key): Option<Vec<u8>> = sqlx::query_scalar(SECRET)
            .bind(webhook_id)
            .fetch_optional(pool)
            .await?
        else {
            return Ok(());
        };
        let attempted_at = Utc::now();
        let outcome = sender
            .attempt(Request {
                url,
                webhook_id: &delivery_id.to_string(),
                key: &key,
                body: &body,
            })
            .await;
        let attempt = attempts + 1;
        record(pool, delivery_id, attempt, attempted_at, &outcome).await?;
        let (state, next) = if outcome.delivered() {
            ("delivered", Utc::now())
        } else {
            let age = (Utc::now() - created_at).to_std().unwrap_or_default();
            if age >= settings.give_up {
                ("dead_lettered", Utc::now())
            } else {
                let pause = settings.pause_after(attempt as u32);
                let give_up_at = created_at + settings.give_up;
                ("pending", (Utc::now() + pause).min(give_up_at))
            }
        };
        metrics::counter!(crate::DELIVERIES, "outcome" => if outcome.delivered() { "delivered" } else { "failed" }).increment(1);
        if state == "dead_lettered" {
            metrics::counter!(crate::DELIVERIES, "outcome" => "dead_lettered").increment(1);
            tracing::warn!(%webhook_id, %delivery_id, attempts = attempt, "webhook delivery dead-lettered");
        }
        sqlx::query(SETTLE)
            .bind(delivery_id)
            .bind(attempt)
            .bind(state)
            .bind(next)
            .execute(pool)
            .await?;
        if state == "pending" {
            return Ok(());
        }
    }
    Ok(())
}

async fn record(
    pool: &PgPool,
    delivery_id: Uuid,
    attempt: i32,
    attempted_at: DateTime<Utc>,
    outcome: &Outcome,
) -> Result<(), sqlx::Error> {
    let duration_ms = i32::try_from(outcome.duration.as_millis()).unwrap_or(i32::MAX);
    sqlx::query(RECORD_ATTEMPT)
        .bind(delivery_id)
        .bind(attempt)
        .bind(attempted_at)
        .bind(outcome.status_code.map(i32::from))
        .bind(&outcome.error)
        .bind(duration_ms)
        .execute(pool)
        .await?;
    Ok(())
}
