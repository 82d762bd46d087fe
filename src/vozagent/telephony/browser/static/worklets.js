// The phone page's audio worklets (they run on the audio thread, where `sampleRate`,
// `registerProcessor` and `AudioWorkletProcessor` are globals).
//
// The wire format is the voice pipeline's own: PCM16 mono at 16 kHz in 20 ms frames, so the
// server converts nothing. The AudioContext runs at the device rate (often 48 kHz); the
// conversion to and from 16 kHz happens here.
"use strict";

const WIRE_RATE = 16000;
const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const STATS_SECONDS = 1;

// Microphone -> 16 kHz PCM16 frames, posted to the page one 20 ms frame at a time.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / WIRE_RATE; // input samples per output sample (3 at 48 kHz)
    this.phase = 0;
    this.sum = 0;
    this.count = 0;
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      for (let i = 0; i < channel.length; i++) this.take(channel[i]);
    }
    return true;
  }

  // Averaging the input samples behind each output sample is a crude low-pass filter: enough
  // to keep most of what lies above 8 kHz from folding back into the speech band.
  take(sample) {
    this.sum += sample;
    this.count += 1;
    this.phase += 1;
    if (this.phase < this.step) return;
    this.phase -= this.step;
    const mean = Math.max(-1, Math.min(1, this.sum / this.count));
    this.sum = 0;
    this.count = 0;
    this.frame[this.filled++] = Math.round(mean * 32767);
    if (this.filled === FRAME_SAMPLES) {
      this.port.postMessage(this.frame, [this.frame.buffer]);
      this.frame = new Int16Array(FRAME_SAMPLES);
      this.filled = 0;
    }
  }
}

// 16 kHz PCM16 frames from the page -> speaker, through a ring buffer that "clear" empties.
class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = WIRE_RATE / sampleRate; // wire samples per output sample
    this.ring = new Float32Array(WIRE_RATE * 4); // 4 s; older audio is dropped past that
    this.readAt = 0; // absolute, fractional position in wire samples
    this.writtenTo = 0; // absolute count of wire samples written
    // After running dry, wait for 60 ms of audio so network jitter does not crackle.
    this.primeSamples = WIRE_RATE * 0.06;
    this.primed = false;
    this.sumSquares = 0;
    this.rendered = 0;
    this.port.onmessage = (event) => this.receive(event.data);
  }

  receive(data) {
    if (data === "clear") {
      this.readAt = this.writtenTo;
      this.primed = false;
      return;
    }
    const samples = data; // Int16Array
    for (let i = 0; i < samples.length; i++) {
      this.ring[this.writtenTo % this.ring.length] = samples[i] / 32768;
      this.writtenTo += 1;
    }
    this.readAt = Math.max(this.readAt, this.writtenTo - this.ring.length + 1);
  }

  process(inputs, outputs) {
    const output = outputs[0];
    const length = output[0].length;
    for (let i = 0; i < length; i++) {
      const value = this.next();
      for (const channel of output) channel[i] = value;
      this.sumSquares += value * value;
    }
    this.rendered += length;
    if (this.rendered >= sampleRate * STATS_SECONDS) {
      this.port.postMessage({ played_rms: Math.sqrt(this.sumSquares / this.rendered) });
      this.sumSquares = 0;
      this.rendered = 0;
    }
    return true;
  }

  next() {
    const available = this.writtenTo - this.readAt;
    if (!this.primed) {
      if (available < this.primeSamples) return 0;
      this.primed = true;
    }
    if (available < 2) {
      this.primed = false;
      return 0;
    }
    // Linear interpolation between neighbouring wire samples (upsampling to the device rate).
    const index = Math.floor(this.readAt);
    const fraction = this.readAt - index;
    const a = this.ring[index % this.ring.length];
    const b = this.ring[(index + 1) % this.ring.length];
    this.readAt += this.step;
    return a + (b - a) * fraction;
  }
}

registerProcessor("capture", CaptureProcessor);
registerProcessor("playback", PlaybackProcessor);
