//! Membership changes, written in waves: a statement per kind of change rather than one per
//! change, in the order the changes happened.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use domain::Role;
use sqlx::PgConnection;
use uuid::Uuid;

pub(crate) enum Membership {
    Joined {
        room_id: Uuid,
        user_id: Uuid,
        username: String,
        role: Role,
        at: DateTime<Utc>,
        /// The join's own sequence: the member has read everything before it.
        seq: i64,
    },
    Left {
        room_id: Uuid,
        user_id: Uuid,
    },
    RoleChanged {
        room_id: Uuid,
        user_id: Uuid,
        role: Role,
    },
}

impl Membership {
    fn member(&self) -> (Uuid, Uuid) {
        match self {
            Membership::Joined {
                room_id, user_id, ..
            }
            | Membership::Left { room_id, user_id }
            | Membership::RoleChanged {
                room_id, user_id, ..
            } => (*room_id, *user_id),
        }
    }
}

/// Membership changes that touch each member at most once, so they can be written together in
/// any order: a statement per kind rather than one per change.
#[derive(Default)]
pub(crate) struct Wave {
    members: HashSet<(Uuid, Uuid)>,
    joined: Joined,
    left_rooms: Vec<Uuid>,
    left_users: Vec<Uuid>,
    changed_rooms: Vec<Uuid>,
    changed_users: Vec<Uuid>,
    changed_roles: Vec<&'static str>,
}

#[derive(Default)]
struct Joined {
    rooms: Vec<Uuid>,
    users: Vec<Uuid>,
    usernames: Vec<String>,
    roles: Vec<&'static str>,
    at: Vec<DateTime<Utc>>,
    seqs: Vec<i64>,
}

/// Splits `changes` into waves, in order: a change to a member already in the current wave
/// starts the next one, so a join, a leave and a join again stay in that order.
pub(crate) fn waves(changes: &[Membership]) -> Vec<Wave> {
    let mut waves = vec![Wave::default()];
    for change in changes {
        let member = change.member();
        if waves
            .last()
            .is_some_and(|wave| wave.members.contains(&member))
        {
            waves.push(Wave::default());
        }
        let wave = waves.last_mut().expect("one wave at least");
        wave.members.insert(member);
        match change {
            Membership::Joined {
                room_id,
                user_id,
                username,
                role,
                at,
                seq,
            } => {
                wave.joined.seqs.push(*seq);
                wave.joined.rooms.push(*room_id);
                wave.joined.users.push(*user_id);
                wave.joined.usernames.push(username.clone());
                wave.joined.roles.push(role_name(*role));
                wave.joined.at.push(*at);
            }
            Membership::Left { room_id, user_id } => {
                wave.left_rooms.push(*room_id);
                wave.left_users.push(*user_id);
            }
            Membership::RoleChanged {
                room_id,
                user_id,
                role,
            } => {
                wave.changed_rooms.push(*room_id);
                wave.changed_users.push(*user_id);
                wave.changed_roles.push(role_name(*role));
            }
        }
    }
    waves
}

impl Wave {
    pub(crate) async fn execute(&self, connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        if !self.joined.rooms.is_empty() {
            sqlx::query(MEMBERS_JOINED)
                .bind(&self.joined.rooms)
                .bind(&self.joined.users)
                .bind(&self.joined.usernames)
                .bind(&self.joined.roles)
                .bind(&self.joined.at)
                .bind(&self.joined.seqs)
                .execute(&mut *connection)
                .await?;
        }
        if !self.left_rooms.is_empty() {
            sqlx::query(MEMBERS_LEFT)
                .bind(&self.left_rooms)
                .bind(&self.left_users)
                .execute(&mut *connection)
                .await?;
        }
        if !self.changed_rooms.is_empty() {
            sqlx::query(ROLES_CHANGED)
                .bind(&self.changed_rooms)
                .bind(&self.changed_users)
                .bind(&self.changed_roles)
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Member => "member",
    }
}

// Member counts move only by the rows that really came or went, so applying twice counts once.
// A member starts having read the room up to their join, or, when they were in it before read
// positions existed, up to where the room was then (`read_baselines`, outside the projection).
const MEMBERS_JOINED: &str = "
WITH joined AS (
    INSERT INTO room_members (room_id, user_id, username, role, joined_at, read_floor)
    SELECT j.room_id, j.user_id, j.username, j.role, j.joined_at, greatest(j.seq, b.seq)
      FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[],
                  $6::bigint[]) AS j(room_id, user_id, username, role, joined_at, seq)
      LEFT JOIN public.read_baselines b ON b.room_id = j.room_id
    ON CONFLICT DO NOTHING
    RETURNING room_id)
UPDATE rooms r SET member_count = r.member_count + j.n
  FROM (SELECT room_id, count(*) AS n FROM joined GROUP BY room_id) j
 WHERE r.id = j.room_id";

const MEMBERS_LEFT: &str = "
WITH gone AS (
    DELETE FROM room_members m
     USING UNNEST($1::uuid[], $2::uuid[]) AS g(room_id, user_id)
     WHERE m.room_id = g.room_id AND m.user_id = g.user_id
    RETURNING m.room_id)
UPDATE rooms r SET member_count = r.member_count - g.n
  FROM (SELECT room_id, count(*) AS n FROM gone GROUP BY room_id) g
 WHERE r.id = g.room_id";

const ROLES_CHANGED: &str = "
UPDATE room_members m SET role = c.role
  FROM UNNEST($1::uuid[], $2::uuid[], $3::text[]) AS c(room_id, user_id, role)
 WHERE m.room_id = c.room_id AND m.user_id = c.user_id";
