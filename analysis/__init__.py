"""radpulse.analysis: what radiology is talking about, how it feels, who is talking, what is new.

Import the parts you need (nothing heavy is imported here): `pipeline.Annotator`,
`store.analyze`, `review.held_post_ids`, `discovery.emerging_terms`, ... See README.md.
"""
