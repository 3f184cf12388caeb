import pytest

from paperlens.ingest.headings import is_heading


@pytest.mark.parametrize(
    "line",
    ["4.2 Results", "3 Model Architecture", "Discussion", "Related Work", "5.1 Training Data"],
)
def test_heading_lines(line: str) -> None:
    assert is_heading(line)


@pytest.mark.parametrize(
    "line",
    [
        "3 Models were trained for a week.",  # a sentence that opens with a number
        "results are shown in Table 2",
        "4.2 Results of the ablation over every model size and dataset that we trained here",
        "12.5 34.1 56.0",
    ],
)
def test_sentences_and_numbers_are_not_headings(line: str) -> None:
    assert not is_heading(line)
