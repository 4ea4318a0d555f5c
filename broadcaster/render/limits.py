"""What a limit check says: a channel's hard limit, measured on the rendered text.

Each channel module declares its own checks (``Channel.limits``); a statement whose
renditions break one cannot be submitted, and the check says which channel (in which
language), which limit, the measured value and by how much it is over.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LimitCheck:
    channel: str
    name: str
    measured: float
    limit: float
    unit: str
    detail: str = ""
    locale: str = ""  # the translation measured; "" for the statement's own language

    @property
    def ok(self) -> bool:
        return self.measured <= self.limit

    @property
    def excess(self) -> float:
        return max(0.0, self.measured - self.limit)

    @property
    def usage(self) -> float:
        """How close to the limit, 0..1+ (what the preview shows as a percentage)."""
        return self.measured / self.limit if self.limit else 0.0

    def summary(self) -> str:
        """What a preview meter says: 'segments: 2 / 3 segments (67%)'; a check whose limit is none
        at all (invalid JSON documents) says 'none' or 'found', not '0/0 (0%)'."""
        if not self.limit:
            return f"{self.name}: {'none' if self.ok else 'found, must be none'}"
        text = f"{self.name}: {_num(self.measured)} / {_num(self.limit)} {self.unit} ({self.usage:.0%})"
        return text if self.ok else f"{text}, over by {_num(self.excess)}"

    def describe(self) -> str:
        where = f"{self.channel} ({self.locale})" if self.locale else self.channel
        text = f"{where}: {self.name} is {_num(self.measured)} {self.unit}, limit {_num(self.limit)}"
        if not self.ok:
            text += f", over by {_num(self.excess)}"
        return text + (f" ({self.detail})" if self.detail else "")

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok, "excess": self.excess, "summary": self.summary()}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
