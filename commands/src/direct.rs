//! Direct rooms: the one private room of two people, opened by either of them.

use cqrs_es::Aggregate;
use domain::room::{direct_room_id, Actor};
use domain::values::Username;
use domain::{Room, RoomCommand, UserError};
use uuid::Uuid;

use crate::state::metadata;
use crate::{CommandError, Commands, Projected};

impl Commands {
    /// The direct room of `opener` and the user named `username` (in any letter case), opened
    /// now if neither of them opened it before. Answers its id once the projection shows it, so
    /// the caller's rooms list it.
    ///
    /// Its id is derived from the two user ids, so openings at once from both sides, on any
    /// number of processes, decide on one aggregate: the first records the room, the others
    /// find it there (a race between processes is a conflict on the store's key, and the loser
    /// decides again from the store).
    pub async fn open_direct_room(
        &self,
        opener: &Actor,
        username: &str,
        request_id: Option<String>,
    ) -> Result<Projected<Uuid>, CommandError> {
        let other = self.person_named(username).await?;
        let room_id = direct_room_id(opener.user_id, other.user_id);
        let aggregate_id = room_id.to_string();
        let command = RoomCommand::OpenDirect {
            opener: opener.clone(),
            other,
            at: eventstore::now(),
        };
        let (_, seq) = self
            .rooms
            .execute_with(
                &aggregate_id,
                command,
                &metadata(opener, request_id),
                Room::last_seq,
            )
            .await?;
        Ok(self
            .after_projection(Room::TYPE, &aggregate_id, seq, room_id)
            .await)
    }

    /// The user called `username`, as their registration spells it; a name that cannot be a
    /// username, or a bot that was revoked, is nobody.
    async fn person_named(&self, username: &str) -> Result<Actor, CommandError> {
        let nobody = CommandError::User(UserError::NotRegistered);
        let Ok(username) = Username::parse(username) else {
            return Err(nobody);
        };
        let user = self.users.load(&username.user_id().to_string()).await?;
        match user.registration() {
            Some(registration) if !user.is_revoked_bot() => Ok(Actor {
                user_id: registration.user_id,
                username: registration.username.clone(),
                is_bot: registration.is_bot(),
            }),
            _ => Err(nobody),
        }
    }
}
