"""A console script that says where its module was imported from."""


def main() -> None:
    print("where from", __file__)
