"""The local-transformers transport on a real (tiny) transformers model built in the test, from a local folder.

No weights are downloaded: the test builds a 6-token Llama model with hand-set weights (no hidden layers;
the embedding and output head are chosen so that greedy decoding answers "safe" and then end-of-sequence),
and a word-level tokenizer with a chat template, saves both to tmp_path and runs the real runner over it.
Skipped when torch or transformers are not installed (`pip install 'riskcards[transformers]'`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from guard_kit import load, make_kb

from riskcards.guards import runner, store

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def make_tiny_guard(folder: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    words = ["safe", "</s>", "<unk>", "<s>", "unsafe", "S1"]
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##")
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", eos_token="</s>", bos_token="<s>", pad_token="</s>"
    )
    fast.chat_template = (
        "{% for m in messages %}{{ m['role'] }} {{ m['content'] }} {% "
        "endfor %}{% if add_generation_prompt %}assistant{% endif %}"
    )
    cfg = transformers.LlamaConfig(
        vocab_size=len(words),
        hidden_size=2,
        intermediate_size=4,
        num_hidden_layers=0,
        num_attention_heads=1,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        bos_token_id=3,
        eos_token_id=1,
        pad_token_id=1,
        tie_word_embeddings=False,
    )
    model = transformers.LlamaForCausalLM(cfg)
    with torch.no_grad():
        emb = torch.zeros(len(words), 2)
        emb[:, 0] = 1.0  # every token points one way ...
        emb[0] = torch.tensor([0.0, 1.0])  # ... except "safe"
        head = torch.zeros(len(words), 2)
        head[0] = torch.tensor([10.0, 0.0])  # after any prompt token: "safe"
        head[1] = torch.tensor([0.0, 10.0])  # after "safe": end of sequence
        model.model.embed_tokens.weight.copy_(emb)
        model.lm_head.weight.copy_(head)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_local_transformers_guard_end_to_end(tmp_path):
    model_dir = make_tiny_guard(tmp_path / "tiny-guard")
    root = make_kb(tmp_path)
    (root / "guards.yaml").write_text(
        f"""guards:
  tiny-local:
    adapter: llama-guard-3
    model: llama-guard-3-8b
    model_name: tiny-guard
    transport: local-transformers
    mode: chat
    model_path: {model_dir}
""",
        encoding="utf-8",
    )
    kb, configs = load(root)
    out = tmp_path / "out"
    summary = runner.run_guard(kb, configs["tiny-local"], out)
    assert summary.planned > 0 and summary.classified == summary.planned
    results = store.read_file(store.result_path(out, "tiny-local"))
    assert len(results) == summary.planned
    for r in results:
        assert r.verdict.label == "safe", (r.raw, r.verdict.parse_error)
        assert r.raw.startswith("safe")
        assert r.guard.transport == "local-transformers"
        assert r.guard.revision and r.guard.revision.startswith("sha256:")
        assert "transformers" in (r.run.runtime or "") and "torch" in (r.run.runtime or "")
    rerun = runner.run_guard(kb, configs["tiny-local"], out)
    assert rerun.classified == 0  # cached: nothing is sent twice
