"""Demo mode: Twilio's recording media. A voicemail the simulated contact leaves is a short tone, served at
Twilio's real media URL through a requests adapter on the session our recording link fetches with."""
import io
import math
import re
import struct
import wave

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

RATE = 8000
DEMO_VOICEMAIL_SECONDS = 3
MEDIA = re.compile(r"/2010-04-01/Accounts/AC\w+/Recordings/RE\w+\.(wav|mp3)$")


def tone_wav(seconds: int = DEMO_VOICEMAIL_SECONDS, hertz: int = 440) -> bytes:
    """A mono 8 kHz 16-bit WAV of a soft tone, the length the demo reports as RecordingDuration."""
    frames = b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * hertz * n / RATE)))
                      for n in range(RATE * seconds))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return buffer.getvalue()


class DemoMediaAdapter(BaseAdapter):
    """api.twilio.com's recording media, answered in-process (200, or 206 for a player's Range)."""

    def __init__(self):
        super().__init__()
        self.audio = tone_wav()

    def send(self, request, **kwargs):
        response = requests.Response()
        response.request, response.url = request, request.url
        if request.method != "GET" or not MEDIA.search(request.path_url.split("?")[0]):
            response.status_code, body, headers = 404, b'{"code": 20404}', {"Content-Type": "application/json"}
        else:
            body, status, headers = self.audio, 200, {"Content-Type": "audio/x-wav", "Accept-Ranges": "bytes"}
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("Range", ""))
            if match and int(match.group(1)) < len(self.audio):
                start = int(match.group(1))
                end = min(int(match.group(2) or len(self.audio) - 1), len(self.audio) - 1)
                body, status = self.audio[start:end + 1], 206
                headers["Content-Range"] = f"bytes {start}-{end}/{len(self.audio)}"
            response.status_code = status
        headers["Content-Length"] = str(len(body))
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(body)
        return response

    def close(self):
        pass


def media_session() -> requests.Session:
    session = requests.Session()
    session.mount("https://api.twilio.com/", DemoMediaAdapter())
    return session
