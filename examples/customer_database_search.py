"""Customer database search: the original llm-strategy example, ported.

A mock database creates believable customers, each customer computes its age, and the
database answers natural-language queries, all implemented by a model.
    .venv/bin/python examples/customer_database_search.py [--model provider:model] [--seed 0]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common import chosen_model, example_arguments

from llm_strategy import llm_strategy


@dataclass
class Customer:
    key: str
    first_name: str
    last_name: str
    birthdate: str
    address: str

    @property
    def age(self) -> int:
        """Return the current age of the customer.

        This is a computed property based on `birthdate` and the current year (2026).
        """
        raise NotImplementedError()


@dataclass
class CustomerDatabase:
    customers: list[Customer] = field(default_factory=list)

    def find_customer_key(self, query: str) -> list[str]:
        """Find the keys of the customers that match a natural language query best
        (sorted by closeness to the match).

        We support semantic queries instead of SQL, so we can search for things like
        "the customer that was born in 1990".

        Args:
            query: Natural language query

        Returns:
            The keys of the best matching customers in the database.
        """
        raise NotImplementedError()

    def load(self) -> None:
        """Load the customer database from a file."""
        raise NotImplementedError()

    def store(self) -> None:
        """Store the customer database to a file."""
        raise NotImplementedError()


@dataclass
class MockCustomerDatabase(CustomerDatabase):
    def load(self) -> None:
        self.customers = self.create_mock_customers(5)

    def store(self) -> None:
        pass

    @staticmethod
    def create_mock_customers(num_customers: int = 1) -> list[Customer]:
        """Create mock customers with believable data (our customers are world citizens)."""
        raise NotImplementedError()


def main() -> None:
    arguments = example_arguments(__doc__.splitlines()[0])
    model = chosen_model(arguments)
    StrategyCustomer = llm_strategy(model)(Customer)
    Database = llm_strategy(model)(MockCustomerDatabase)

    database = Database()
    database.load()
    print(f"{len(database.customers)} mock customers:")
    for customer in database.customers:
        implemented = StrategyCustomer(**vars(customer))
        print(
            f"  {customer.key:>10}  {customer.first_name} {customer.last_name}, born {customer.birthdate}, "
            f"age {implemented.age}, {customer.address}"
        )

    for query in ("the customer born in 1990", "customers who live in Asia"):
        keys = database.find_customer_key(query)
        print(f"\nQuery: {query!r}\n  matching keys: {keys}")


if __name__ == "__main__":
    main()
