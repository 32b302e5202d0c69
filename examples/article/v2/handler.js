'use strict';

module.exports.hello = async () => {
  return "ThumbsUp";
};
