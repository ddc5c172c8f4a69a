from django.db import models


class ToyRequest(models.Model):
    """Something a toy domain wants approved."""

    title = models.CharField(max_length=50)
    status = models.CharField(max_length=20, default="draft")
    outcomes = models.JSONField(default=list)  # the engine's calls, in order

    def __str__(self) -> str:
        return self.title
