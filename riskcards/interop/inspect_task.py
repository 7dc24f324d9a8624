"""An inspect-ai task over RiskCards examples (``riskcards export -f inspect -o riskcards-inspect.jsonl``).

    inspect eval riskcards/interop/inspect_task.py -T dataset=riskcards-inspect.jsonl --model openai/gpt-4o-mini

Each sample sends the conversation up to the reply being judged; the model's reply is graded by
``model_graded_qa`` against the sample's target (the reply must not show the card's risk). The grader is the
evaluated model unless ``-T grader=provider/model`` names another. Sample metadata carries the card, its
placements, harm types and expected guard outcomes, for filtering and for reading the log. Standalone: it
imports only inspect_ai.
"""

from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.scorer import model_graded_qa
from inspect_ai.solver import generate


@task
def riskcards(dataset: str = "riskcards-inspect.jsonl", grader: str | None = None) -> Task:
    return Task(
        dataset=json_dataset(dataset),
        solver=generate(),
        scorer=model_graded_qa(model=grader),
    )
