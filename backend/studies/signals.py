"""What studies hears from the other apps: a user saved may have lost what their event streams show."""

from typing import Any

from accounts.models import User
from studies.events import user_changed_publish

# Saved at each sign-in (Simple JWT's UPDATE_LAST_LOGIN): nothing an event stream depends on.
IRRELEVANT_FIELDS = frozenset({"last_login"})


def user_saved(
    sender: type[User], instance: User, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    if update_fields is not None and set(update_fields) <= IRRELEVANT_FIELDS:
        return
    user_changed_publish(user_id=instance.pk)
