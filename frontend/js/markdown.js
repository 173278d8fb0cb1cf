// Pages the server renders (the campaign page): highlight the code and typeset the TeX in their
// markdown, as the labeling page does (lib/content.js).
import { enhance } from "./lib/content.js";

for (const node of document.querySelectorAll(".markdown")) enhance(node);
