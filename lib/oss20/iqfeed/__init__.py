"""The IQFeed wire protocol: pure parsing and formatting, an asyncio client, and a simulator."""
