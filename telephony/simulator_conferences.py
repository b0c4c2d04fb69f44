"""The simulator's conferences: where Twilio would hold the customer's leg and the agents
in a Conference (telephony.services.bridging), the simulator keeps a "conference" message
per customer leg and posts the conference callbacks Twilio would."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.utils import timezone

from telephony.models import SimulatorMessage


class ConferenceSimulation:
    """Mixed into Simulator: its `_post` sends the signed callbacks."""

    # --- Conferences (telephony.services.bridging) ---------------------------------------
    # A conference is remembered as a "conference" message keyed by the customer's leg.

    def _conference_of_leg(self, call_sid: str) -> SimulatorMessage | None:
        return (
            SimulatorMessage.objects.filter(direction="sim", action="conference", call_sid=call_sid)
            .order_by("-id")
            .first()
        )

    def _conference_named(self, name_or_sid: str) -> SimulatorMessage | None:
        for msg in SimulatorMessage.objects.filter(direction="sim", action="conference").order_by(
            "-id"
        ):
            if name_or_sid in {msg.data.get("name"), msg.data.get("conference_sid")}:
                return msg
        return None

    def _conference_post(
        self, conference: SimulatorMessage, event: str, *, leg: str = "", label: str = "", **extra
    ) -> None:
        cf = conference.data["conference_sid"]
        sequence = SimulatorMessage.objects.filter(
            direction="webhook", action="conference", data__ConferenceSid=cf
        ).count()
        data = {
            "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
            "ConferenceSid": cf,
            "FriendlyName": conference.data["name"],
            "StatusCallbackEvent": event,
            "SequenceNumber": str(sequence),
            "Timestamp": timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000"),
        }
        if leg:
            data["CallSid"] = leg
        if label:
            data["ParticipantLabel"] = label
        # Participant flags as Twilio names them in the callback (Muted, Coaching, Hold).
        data.update({k[:1].upper() + k[1:]: str(v).lower() for k, v in extra.items()})
        self._post(conference.call_sid, "conference", conference.data["status_callback"], data)

    def enter_conference(self, *, call_sid: str, twiml: str) -> None:
        """The customer's leg ran `<Dial><Conference>`: the conference starts with them."""
        import xml.etree.ElementTree as ET  # noqa: N817 - Sangdam's own TwiML, not untrusted input

        root = ET.fromstring(twiml)  # noqa: S314 - produced by Sangdam itself a moment ago
        dial = root.find("Dial")
        node = dial.find("Conference") if dial is not None else None
        if node is None:
            return
        conference = SimulatorMessage.objects.create(
            direction="sim",
            action="conference",
            call_sid=call_sid,
            data={
                "name": (node.text or "").strip(),
                "conference_sid": "CF" + secrets.token_hex(16),
                "status_callback": node.get("statusCallback", ""),
                "recording_callback": node.get("recordingStatusCallback", ""),
                "dial_action": dial.get("action", ""),
            },
        )
        if conference.data["status_callback"]:
            self._conference_post(conference, "participant-join", leg=call_sid, label="customer")
            self._conference_post(conference, "conference-start")

    def leave_conference(self, *, call_sid: str) -> None:
        """The customer hung up: they leave, the conference ends, the Dial action runs."""
        conference = self._conference_of_leg(call_sid)
        if conference is None or conference.data.get("ended"):
            return
        conference.data["ended"] = True
        conference.save(update_fields=["data"])
        if conference.data["status_callback"]:
            self._conference_post(conference, "participant-leave", leg=call_sid, label="customer")
            self._conference_post(conference, "conference-end")
        if conference.data["dial_action"]:
            self._post(
                call_sid,
                "dial_result",
                conference.data["dial_action"],
                {"CallSid": call_sid, "CallStatus": "completed", "DialCallStatus": "completed"},
            )

    def conference_rest(self, *, call_sid: str, action: str, data: dict) -> None:
        """Participants API: add (rings the agent's client, who answers at once), update a
        participant's muted/coaching flags, hold or unhold the customer, remove a
        participant by label."""
        conference = self._conference_named(data.get("conference", "")) or self._conference_of_leg(
            call_sid
        )
        if conference is None or conference.data.get("ended"):
            return
        if action == "participant_add":
            from telephony.simulator import new_call_sid  # the simulator module imports this one

            leg = new_call_sid()
            legs = conference.data.setdefault("legs", {})
            legs[data["label"]] = leg
            conference.save(update_fields=["data"])
            self._conference_post(
                conference,
                "participant-join",
                leg=leg,
                label=data["label"],
                muted=bool(data.get("muted")),
                coaching=bool(data.get("coach_call_sid")),
            )
        elif action == "participant_update":
            # Twilio reports a change of mute or coaching as participant-modify.
            leg = conference.data.get("legs", {}).get(data["label"], "")
            if leg:
                self._conference_post(
                    conference,
                    "participant-modify",
                    leg=leg,
                    label=data["label"],
                    muted=bool(data.get("muted")),
                    coaching=bool(data.get("coach_call_sid")),
                )
        elif action == "participant_hold":
            event = "participant-hold" if data.get("hold") else "participant-unhold"
            self._conference_post(conference, event, leg=call_sid, label="customer")
        elif action == "participant_remove":
            leg = conference.data.get("legs", {}).pop(data["label"], "")
            if leg:
                conference.save(update_fields=["data"])
                self._conference_post(conference, "participant-leave", leg=leg, label=data["label"])
