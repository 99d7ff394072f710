#!/usr/bin/env bash
# Regenerate every audio fixture in tests/data (see README.md there for what each one is for).
#
# Needs: espeak-ng and sox with its AMR handler (Debian: apt-get install espeak-ng sox libsox-fmt-all),
# and the project's virtualenv for the static ffmpeg of imageio-ffmpeg (it has libmp3lame, libopus,
# the native AAC encoder; Debian's ffmpeg has no AMR encoder, so sox makes the AMR file).
# Made with espeak-ng 1.51, SoX 14.4.2 and ffmpeg n9.0.2 (imageio-ffmpeg 0.8.1); other versions give
# slightly different bytes but files of the same kind.
#
# Usage: tests/data/make_fixtures.sh            (from anywhere; writes next to this script)
#        PYTHON=/path/to/python tests/data/make_fixtures.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
FFMPEG="${FFMPEG:-$("$PY" -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')}"
# Output options for reproducible bytes: no encoder version strings or metadata, fixed Ogg serial
# numbers and Matroska UIDs (-fflags +bitexact must follow -i to apply to the output).
ff() { "$FFMPEG" -hide_banner -loglevel error -y "$@"; }
ENC=(-map_metadata -1 -fflags +bitexact -flags:a +bitexact)
# SoX dithers with random noise by default; -D turns that off so its outputs are reproducible too.
sox() { command sox -D "$@"; }
VOICE=en      # espeak-ng voice (gmw/en, British English; lower Whisper WER on these notes than en-us)
SPEED=150     # words per minute

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$HERE"

# ---------------------------------------------------------------- the format set (one ~3.7 s clip)
# Two sentences with a 0.7 s pause between them (SSML), so that the AMR encoder's DTX really emits
# SID / NO_DATA frames in the pause. espeak-ng writes 22,050 Hz mono 16-bit WAV.
espeak-ng -v "$VOICE" -s "$SPEED" -m -w "$TMP/base.wav" \
  '<speak>The street light is broken. <break time="700ms"/> Please fix it.</speak>'

cp "$TMP/base.wav" speech.wav                                   # 22,050 Hz mono PCM s16
sox "$TMP/base.wav" -r 44100 -c 2 -b 16 speech.flac             # 44,100 Hz stereo FLAC
ff -i "$TMP/base.wav" "${ENC[@]}" -ar 44100 -ac 2 -c:a libmp3lame -b:a 64k speech.mp3
# AAC in MP4 the way ffmpeg writes it by default: moov box at the END (decoding must seek).
ff -i "$TMP/base.wav" "${ENC[@]}" -ar 48000 -ac 1 -c:a aac -b:a 64k speech.m4a
# Fragmented MP4 like Safari's MediaRecorder: empty moov up front, then moof/mdat fragments.
ff -i "$TMP/base.wav" "${ENC[@]}" -ar 48000 -ac 1 -c:a aac -b:a 64k \
  -movflags frag_keyframe+empty_moov+default_base_moof -frag_duration 500000 speech_fragmented.m4a
ff -i "$TMP/base.wav" "${ENC[@]}" -ar 48000 -ac 1 -c:a libopus -b:a 32k speech.ogg
# WebM/Opus written to a pipe: the muxer cannot seek back, so the file has no Duration, no Cues and
# unknown-size Segment/Clusters -- the same shape as Chrome's MediaRecorder output.
ff -i "$TMP/base.wav" "${ENC[@]}" -ar 48000 -ac 1 -c:a libopus -b:a 32k -f webm - > speech_stream.webm
# AMR-NB, 8 kHz, 12.2 kbit/s (-C 7). SoX's opencore encoder runs with DTX on: the pause and the
# trailing silence become SID and NO_DATA frames (ffmpeg's native amrnb decoder drops audio there).
sox "$TMP/base.wav" -r 8000 -c 1 -t amr-nb -C 7 speech.amr

# ---------------------------------------------------------------- bad inputs
printf 'Dear village committee,\nthis is a text note, not a recording.\n' > not_audio.mp3
: > empty.wav
# An MP3 cut in half: still a valid stream, it decodes to roughly the first half.
head -c "$(( $(stat -c %s speech.mp3) / 2 ))" speech.mp3 > truncated.mp3
# An MP4 cut in half: its moov box (at the end) is gone, so it cannot be decoded at all.
head -c "$(( $(stat -c %s speech.m4a) / 2 ))" speech.m4a > truncated.m4a
# 0.3 s of the speech (16 kHz mono) -- below the 0.5 s minimum.
sox "$TMP/base.wav" -r 16000 -c 1 -b 16 too_short.wav trim 0.35 0.3
# 3 s of digital silence (all samples zero), 16 kHz mono.
sox -n -r 16000 -c 1 -b 16 silence.wav trim 0 3
# Header damage: 0.5 s of speech whose "RIFF....WAVE" magic is overwritten ("RIFF" -> "RIFX",
# "WAVE" -> "WAVX"), and one whose fmt chunk claims 65,535 channels at 4,294,967,295 Hz and
# 4 GiB of data.
sox "$TMP/base.wav" -r 16000 -c 1 -b 16 "$TMP/half.wav" trim 0.35 0.5
"$PY" - "$TMP/half.wav" <<'PYEOF'
import struct
import sys

data = bytearray(open(sys.argv[1], "rb").read())
assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
bad = bytearray(data)
bad[0:4] = b"RIFX"
bad[8:12] = b"WAVX"
open("wrong_magic.wav", "wb").write(bad)
absurd = bytearray(data)
absurd[4:8] = struct.pack("<I", 0xFFFFFFFF)             # RIFF size
fmt = 20                                                # fmt chunk body starts after "fmt " + size
absurd[fmt + 2:fmt + 4] = struct.pack("<H", 0xFFFF)     # channels
absurd[fmt + 4:fmt + 8] = struct.pack("<I", 0xFFFFFFFF)  # sample rate
absurd[fmt + 8:fmt + 12] = struct.pack("<I", 0xFFFFFFFF)  # byte rate
pos = absurd.find(b"data")
absurd[pos + 4:pos + 8] = struct.pack("<I", 0xFFFFFFFF)  # data size
open("absurd_header.wav", "wb").write(absurd)
PYEOF

# ---------------------------------------------------------------- voice notes, one per category
# Ogg/Opus like a phone upload, 48 kHz mono 32 kbit/s.
note() {
  espeak-ng -v "$VOICE" -s "$SPEED" -w "$TMP/$1.wav" "$2"
  ff -i "$TMP/$1.wav" "${ENC[@]}" -ar 48000 -ac 1 -c:a libopus -b:a 32k "$1.ogg"
}
note voice_transport "Cars and trucks park all over the road outside the village school, and the bus cannot get through in the morning."
note voice_urban_construction "My neighbour is building an illegal extension on his house, and the drains in our lane are blocked, so the street floods when it rains."
note voice_environment "The factory next to the river dumps dirty water into it, and the smell of the rubbish and the smoke is terrible at night."
note voice_power "We have a power cut every evening this week, the electricity voltage is too low and the street lights are broken."
note voice_other "My mother has not received her pension for three months, and the clinic says her medical insurance is not valid."

ls -l "$HERE"
