"""The ``local-transformers`` transport: a Hugging Face transformers model from a local folder, never downloaded.

Install the optional extra (``riskcards.paths.install_hint('transformers')`` prints the command). Loading uses
``local_files_only=True`` with ``HF_HUB_OFFLINE=1``. Chat requests are rendered with the tokenizer's own chat
template (the same template a vLLM server applies), completions requests are tokenised as given (the tokenizer
adds the BOS). Generation is greedy (``do_sample=False``); the raw output keeps special tokens (parsers strip
trailing ones), and the top-5 candidates of each generated position are returned in the chat logprobs shape, so
p(unsafe) can be computed.

Revision: the commit sha when the folder is a Hugging Face cache snapshot (``.../snapshots/<sha>``), otherwise
a sha256 over config.json, tokenizer_config.json, generation_config.json and the weights index.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..protocol import Exchange, Request, TransportError
from . import TransportConfig, register
from .base import TransportBase


def folder_revision(path: Path) -> str:
    path = Path(path).resolve()
    if path.parent.name == "snapshots" and re.fullmatch(r"[0-9a-f]{40}", path.name):
        return path.name
    h = hashlib.sha256()
    for name in ("config.json", "tokenizer_config.json", "generation_config.json", "model.safetensors.index.json"):
        f = path / name
        if f.is_file():
            h.update(name.encode() + b"\0" + f.read_bytes())
    return "sha256:" + h.hexdigest()


@register
class TransformersTransport(TransportBase):
    name = "local-transformers"
    modes = ("chat", "completions")
    requires = ("model_path",)
    description = "A Hugging Face transformers model from a local folder, never downloaded (greedy decoding)."

    @classmethod
    def open(cls, config: TransportConfig, *, source: Any = None) -> TransformersTransport:
        return cls(config.model_path or Path(""), logprobs=config.logprobs)

    @classmethod
    def revision_of(cls, config: TransportConfig, *, source: Any = None) -> str | None:
        path = config.model_path
        return folder_revision(path) if path is not None and Path(path).is_dir() else None

    def __init__(self, model_path: str | Path, *, device: str = "cpu", logprobs: int | None = 5) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        path = Path(model_path).expanduser()
        if not path.is_dir():
            raise TransportError(
                f"model_path {path} is not a folder; give the local folder holding config.json and the weights"
            )
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            from ...paths import install_hint

            raise TransportError(
                f"the local-transformers transport needs {exc.name}; install it with: {install_hint('transformers')}"
            ) from None
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).to(device).eval()
        self.device = device
        self.logprobs = logprobs
        self.revision = folder_revision(path)
        import transformers

        self.runtime = f"transformers {transformers.__version__} / torch {torch.__version__} / {device}"
        self._lock = threading.Lock()
        self.attempts = 0
        self.test_double = False

    def render(self, request: Request) -> str:
        """The exact prompt text the model sees for a chat request (no tokenisation)."""
        kwargs = dict(request.extra_body.get("chat_template_kwargs") or {})
        return self.tokenizer.apply_chat_template(
            list(request.messages), tokenize=False, add_generation_prompt=True, **kwargs
        )

    def send(self, request: Request, *, model: str, params: Mapping[str, Any]) -> Exchange:
        torch = self._torch
        started = time.perf_counter()
        with self._lock:
            self.attempts += 1
            if request.mode == "chat":
                kwargs = dict(request.extra_body.get("chat_template_kwargs") or {})
                ids = self.tokenizer.apply_chat_template(
                    list(request.messages), add_generation_prompt=True, return_tensors="pt", **kwargs
                )
            else:
                ids = self.tokenizer(request.prompt or "", return_tensors="pt").input_ids
            if isinstance(ids, Mapping):  # transformers 5 returns a BatchEncoding from apply_chat_template
                ids = ids["input_ids"]
            ids = ids.to(self.device)
            max_new = int(params.get("max_tokens", 20))
            pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
            with torch.no_grad():
                out = self.model.generate(
                    ids,
                    attention_mask=torch.ones_like(ids),
                    max_new_tokens=max_new,
                    do_sample=False,
                    pad_token_id=pad,
                    output_scores=True,
                    return_dict_in_generate=True,
                )
            new = out.sequences[0, ids.shape[1] :]
            raw = self.tokenizer.decode(new, skip_special_tokens=False)
            eos = self.tokenizer.eos_token_id
            eos_ids = set(eos if isinstance(eos, list) else [eos]) if eos is not None else set()
            finish = "stop" if (len(new) and int(new[-1]) in eos_ids) or len(new) < max_new else "length"
            content = []
            for step, scores in enumerate(out.scores):
                logp = torch.log_softmax(scores[0].float(), dim=-1)
                top = torch.topk(logp, k=min(self.logprobs or 5, logp.shape[-1]))
                cands = [
                    {"token": self.tokenizer.decode([int(t)]), "logprob": float(v)}
                    for v, t in zip(top.values, top.indices, strict=True)
                ]
                tok = int(new[step]) if step < len(new) else None
                content.append(
                    {
                        "token": self.tokenizer.decode([tok]) if tok is not None else "",
                        "logprob": float(logp[tok]) if tok is not None else None,
                        "top_logprobs": cands,
                    }
                )
        return Exchange(
            raw=raw,
            finish_reason=finish,
            logprobs={"content": content},
            served_model=model,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
