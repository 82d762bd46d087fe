// The browser phone: registers over one WebSocket, rings, and carries a call's audio.
//
// Text frames carry JSON control, binary frames carry audio (PCM16 little-endian mono,
// 16 kHz, 20 ms). Query parameters: ?name=X registers at once, &autoanswer=1 answers every
// call (headless tests and demos), &token=T is passed on when the server requires one.
"use strict";

const params = new URLSearchParams(location.search);
const autoanswer = params.get("autoanswer") === "1";
const $ = (id) => document.getElementById(id);
const ui = {
  name: $("name"), register: $("register"), status: $("status"), incoming: $("incoming"),
  from: $("from"), answer: $("answer"), decline: $("decline"), hangup: $("hangup"),
  keypad: $("keypad"),
};
// Close codes after which reconnecting would only be refused again (see page.py).
const FINAL_CLOSE_CODES = new Set([4400, 4403, 4409]);
const RECONNECT_MS = 3000;

let socket = null;
let wantedName = null;
let ringingCall = null; // call id while ringing
let call = null; // the answered call and what the page heard of it
let audio = null; // { context, playback, mic, source, capture }

function setStatus(text) {
  ui.status.textContent = text;
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function socketUrl(name) {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("name", name);
  if (params.get("token")) url.searchParams.set("token", params.get("token"));
  return url;
}

function register() {
  const name = ui.name.value.trim();
  if (!name) return setStatus("Enter a name or number to answer calls to");
  wantedName = name;
  if (socket) socket.close();
  connect(name);
}

function connect(name) {
  const ws = new WebSocket(socketUrl(name));
  ws.binaryType = "arraybuffer";
  ws.onmessage = (event) => {
    if (event.data instanceof ArrayBuffer) heard(event.data);
    else control(JSON.parse(event.data));
  };
  ws.onclose = (event) => {
    if (socket !== ws) return; // a newer registration replaced this socket
    socket = null;
    endCall();
    if (FINAL_CLOSE_CODES.has(event.code)) {
      setStatus(closeReason(event.code));
    } else if (wantedName === name) {
      setStatus("Disconnected; reconnecting…");
      setTimeout(() => { if (!socket && wantedName === name) connect(name); }, RECONNECT_MS);
    }
  };
  socket = ws;
  setStatus(`Registering as ${name}…`);
}

function closeReason(code) {
  if (code === 4400) return "That name is not valid (letters, digits, + . _ - only)";
  if (code === 4403) return "The server refused this page (origin or token)";
  return "Another page registered with this name";
}

function control(message) {
  switch (message.type) {
    case "registered":
      setStatus(`Registered as ${message.name}; waiting for calls`);
      break;
    case "ring":
      ring(message);
      break;
    case "hangup":
      endCall("Call ended");
      break;
    case "clear":
      if (audio) audio.playback.port.postMessage("clear");
      break;
    case "replaced":
      wantedName = null;
      break;
  }
}

function ring(message) {
  ringingCall = message.call_id;
  ui.from.textContent = message.from || "unknown";
  ui.incoming.hidden = false;
  ui.hangup.disabled = false;
  setStatus(`Incoming call from ${message.from || "unknown"}`);
  if (autoanswer) answer();
}

async function answer() {
  const callId = ringingCall;
  if (!callId) return;
  ringingCall = null;
  ui.incoming.hidden = true;
  try {
    await startAudio();
  } catch (error) {
    send({ type: "decline", call_id: callId });
    return endCall(`Microphone unavailable: ${error.message}`);
  }
  call = { id: callId, framesReceived: 0, sumSquares: 0, samples: 0, playedRms: 0 };
  call.statsTimer = setInterval(sendStats, 1000);
  send({ type: "answer", call_id: callId });
  setStatus("In call");
}

function decline() {
  if (ringingCall) send({ type: "decline", call_id: ringingCall });
  endCall("Declined");
}

function hangUp() {
  const callId = call ? call.id : ringingCall;
  if (callId) send({ type: "hangup", call_id: callId });
  endCall("Hung up");
}

function endCall(text) {
  if (call) clearInterval(call.statsTimer);
  call = null;
  ringingCall = null;
  ui.incoming.hidden = true;
  ui.hangup.disabled = true;
  stopMicrophone();
  if (text) setStatus(text);
}

async function startAudio() {
  if (!audio) {
    const context = new AudioContext();
    await context.audioWorklet.addModule("static/worklets.js");
    const playback = new AudioWorkletNode(context, "playback", { outputChannelCount: [1] });
    playback.port.onmessage = (event) => { if (call) call.playedRms = event.data.played_rms; };
    playback.connect(context.destination);
    audio = { context, playback, mic: null, source: null, capture: null };
  }
  await audio.context.resume();
  audio.mic = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  audio.source = audio.context.createMediaStreamSource(audio.mic);
  audio.capture = new AudioWorkletNode(audio.context, "capture");
  // Int16Array is little-endian on every platform browsers run on: the wire format as is.
  audio.capture.port.onmessage = (event) => {
    if (call && socket && socket.readyState === WebSocket.OPEN) socket.send(event.data);
  };
  audio.source.connect(audio.capture);
  // Connected so the audio graph keeps pulling it; it outputs silence.
  audio.capture.connect(audio.context.destination);
}

function stopMicrophone() {
  if (!audio || !audio.mic) return;
  audio.mic.getTracks().forEach((track) => track.stop());
  audio.source.disconnect();
  audio.capture.disconnect();
  audio.capture.port.onmessage = null;
  audio.playback.port.postMessage("clear");
  audio.mic = audio.source = audio.capture = null;
}

function heard(buffer) {
  if (!call || !audio) return;
  const samples = new Int16Array(buffer);
  call.framesReceived += 1;
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i] / 32768;
    call.sumSquares += value * value;
  }
  call.samples += samples.length;
  audio.playback.port.postMessage(samples, [samples.buffer]);
}

// Diagnostics: what this page heard in the last second (the server keeps the latest).
function sendStats() {
  if (!call) return;
  const rms = call.samples ? Math.sqrt(call.sumSquares / call.samples) : 0;
  send({
    type: "stats", call_id: call.id, frames_received: call.framesReceived, rms,
    played_rms: call.playedRms,
  });
  call.sumSquares = 0;
  call.samples = 0;
}

function pressKey(digit) {
  if (!call) return;
  send({ type: "dtmf", call_id: call.id, digit });
  setStatus(`In call; sent ${digit}`);
}

for (const digit of "123456789*0#") {
  const key = document.createElement("button");
  key.type = "button";
  key.textContent = digit;
  key.addEventListener("click", () => pressKey(digit));
  ui.keypad.appendChild(key);
}
ui.register.addEventListener("click", register);
ui.name.addEventListener("keydown", (event) => { if (event.key === "Enter") register(); });
ui.answer.addEventListener("click", answer);
ui.decline.addEventListener("click", decline);
ui.hangup.addEventListener("click", hangUp);
if (params.get("name")) {
  ui.name.value = params.get("name");
  register();
}
