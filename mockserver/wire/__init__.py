"""The OpenAI wire format every room speaks: error bodies, JSON, server-sent events, reply values, and the
request-field checks that answer bad input as OpenAI does."""
