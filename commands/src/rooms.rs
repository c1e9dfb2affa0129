//! Creating, joining and leaving rooms, and reading one as its events leave it.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::room::Actor;
use domain::values::{InvalidValue, RoomName, RoomPassword};
use domain::{Room, RoomCommand, RoomError, RoomEvent, RoomKind};
use uuid::Uuid;

use crate::state::metadata;
use crate::{CommandError, Commands, Projected};

/// A room to create, validated.
#[derive(Debug, Clone)]
pub struct NewRoom {
    pub name: RoomName,
    pub is_private: bool,
    /// Only a private room keeps one.
    pub password: Option<RoomPassword>,
}

impl NewRoom {
    pub fn parse(
        name: &str,
        is_private: bool,
        password: Option<&str>,
    ) -> Result<Self, InvalidValue> {
        let name = RoomName::parse(name)?;
        // The seed treats an empty password as none at all.
        let password = password
            .filter(|password| !password.is_empty())
            .map(RoomPassword::parse)
            .transpose()?;
        Ok(Self {
            name,
            is_private,
            password: password.filter(|_| is_private),
        })
    }
}

/// A created room, as the committed `RoomCreated` event records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRoom {
    pub room_id: Uuid,
    pub name: String,
    pub is_private: bool,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub kind: RoomKind,
}

/// A join, recorded now or already a fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub room_name: String,
    /// The caller was a member before: nothing was recorded.
    pub already_member: bool,
    /// The room's latest sequence once the join stood.
    pub seq: usize,
}

/// A recorded departure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    pub room_name: String,
    /// The room's latest sequence once the departure was recorded.
    pub seq: usize,
}

impl Commands {
    /// Creates a room with `creator` as its owner and first member, under the creator's
    /// limit of room creations; answers once the projection shows it.
    pub async fn create_room(
        &self,
        creator: &Actor,
        room: NewRoom,
        request_id: Option<String>,
    ) -> Result<Projected<CreatedRoom>, CommandError> {
        // Before the hash: a refused creation, even of a name that is taken, costs no bcrypt.
        self.room_create_limit.check(&creator.user_id.to_string())?;
        let password_hash = match room.password {
            Some(password) => Some(self.passwords.hash(password.expose()).await),
            None => None,
        };
        let aggregate_id = room.name.room_id().to_string();
        let command = RoomCommand::Create {
            name: room.name,
            is_private: room.is_private,
            password_hash,
            creator: creator.clone(),
            at: eventstore::now(),
        };
        let events = self
            .rooms
            .execute(&aggregate_id, command, &metadata(creator, request_id))
            .await?;
        let RoomEvent::RoomCreated {
            room_id,
            name,
            is_private,
            created_by,
            created_at,
            kind,
            ..
        } = &events[0].payload
        else {
            unreachable!("a room's first event is RoomCreated")
        };
        let created = CreatedRoom {
            room_id: *room_id,
            name: name.clone(),
            is_private: *is_private,
            created_by: *created_by,
            created_at: *created_at,
            kind: *kind,
        };
        let sequence = events.last().map_or(0, |event| event.sequence);
        Ok(self
            .after_projection(Room::TYPE, &aggregate_id, sequence, created)
            .await)
    }

    /// Joins `member` to the room; joining again is not an error. Answers once the projection
    /// shows the membership, even one that is a moment old.
    ///
    /// A private room's password is checked here, before the join is queued, under the
    /// member's limit of attempts at that room: a bcrypt takes a few hundred milliseconds, and
    /// the room decides one command at a time. The join carries the hash the password matched,
    /// and the room admits it only if that is still its password.
    pub async fn join_room(
        &self,
        member: &Actor,
        room_id: Uuid,
        password: Option<String>,
        request_id: Option<String>,
    ) -> Result<Projected<Joined>, CommandError> {
        let aggregate_id = room_id.to_string();
        let room = self.rooms.load(&aggregate_id).await?;
        let password_verified_for = match room
            .password_hash_to_join(member.user_id)
            .map_err(CommandError::Room)?
        {
            None => None,
            Some(hash) => {
                self.room_password_limit
                    .check(&format!("{}/{room_id}", member.user_id))?;
                let given = password.as_deref().unwrap_or_default();
                if !self.passwords.verify(given, hash).await {
                    return Err(CommandError::Room(RoomError::WrongPassword));
                }
                Some(hash.to_owned())
            }
        };
        let command = RoomCommand::Join {
            member: member.clone(),
            password_verified_for,
            at: eventstore::now(),
        };
        let (recorded, room_name, seq) = self
            .change_membership(member, room_id, command, request_id)
            .await?;
        let joined = Joined {
            room_name,
            already_member: !recorded,
            seq,
        };
        Ok(self
            .after_projection(Room::TYPE, &aggregate_id, seq, joined)
            .await)
    }

    /// Takes `member` out of the room; when its last owner leaves, the longest-standing member
    /// becomes owner. Answers once the projection shows it.
    pub async fn leave_room(
        &self,
        member: &Actor,
        room_id: Uuid,
        request_id: Option<String>,
    ) -> Result<Projected<Left>, CommandError> {
        let command = RoomCommand::Leave {
            member: member.clone(),
            at: eventstore::now(),
        };
        let (_, room_name, seq) = self
            .change_membership(member, room_id, command, request_id)
            .await?;
        Ok(self
            .after_projection(
                Room::TYPE,
                &room_id.to_string(),
                seq,
                Left { room_name, seq },
            )
            .await)
    }

    /// Runs a join or a leave: whether it recorded anything, the room's name, and the
    /// sequence of the room's latest event, which the answer waits for the projection to reach.
    async fn change_membership(
        &self,
        member: &Actor,
        room_id: Uuid,
        command: RoomCommand,
        request_id: Option<String>,
    ) -> Result<(bool, String, usize), CommandError> {
        let (events, (room_name, seq)) = self
            .rooms
            .execute_with(
                &room_id.to_string(),
                command,
                &metadata(member, request_id),
                name_and_sequence,
            )
            .await?;
        Ok((!events.is_empty(), room_name, seq))
    }

    /// The room as its committed events leave it (a room never created has no `info`): what
    /// the WebSocket gateway admits a socket by, whatever the read tables say yet.
    pub async fn load_room(&self, room_id: Uuid) -> Result<Room, CommandError> {
        Ok(self.rooms.load(&room_id.to_string()).await?)
    }
}

/// The room's name, and the sequence of its latest event: what a membership answer needs.
fn name_and_sequence(room: &Room) -> (String, usize) {
    let name = room
        .info()
        .map(|info| info.name.clone())
        .unwrap_or_default();
    (name, room.last_seq())
}
