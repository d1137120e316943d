from django.apps import AppConfig
from django.db.models.signals import post_save


class StudiesConfig(AppConfig):
    name = "studies"
    verbose_name = "Studies"

    def ready(self) -> None:
        from accounts.models import User
        from studies.signals import user_saved

        # Every save of a user, whoever makes it (the API, the admin site, a shell), reaches the
        # user's open event streams.
        post_save.connect(user_saved, sender=User, dispatch_uid="studies-user-saved")
        # The studies' kinds of background work join the job registry (common.jobs) in every
        # process: the web's dispatch, the workers' tasks and beat's reconciler.
        import studies.dispatch  # noqa: F401
